import { createEnvelope } from '@conveyor/broker';
import type { MessageEnvelope } from '@conveyor/contracts';

export type ObjectCheckEnvelope = MessageEnvelope & { kind: 'object.check' };

/** One object-check message per id, all stamped with the moment the callback was accepted. */
export function splitCallback(objectIds: readonly number[], receivedAt: Date, correlationId: string): ObjectCheckEnvelope[] {
  const stamp = receivedAt.toISOString();
  return objectIds.map((objectId) => createEnvelope('object.check', { objectId, receivedAt: stamp }, correlationId, receivedAt));
}
