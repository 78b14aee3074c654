import type { ObjectCheckRequested } from '@conveyor/contracts';

/** One object-check payload per id, all stamped with the moment the callback was accepted. */
export function splitCallback(objectIds: readonly number[], receivedAt: Date): ObjectCheckRequested[] {
  const stamp = receivedAt.toISOString();
  return objectIds.map((objectId) => ({ objectId, receivedAt: stamp }));
}
