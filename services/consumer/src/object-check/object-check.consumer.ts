import type { HandlerContext } from '@conveyor/broker';
import type { ObjectCheckRequested } from '@conveyor/contracts';
import type { LastSeenWriter } from './last-seen.writer.js';
import type { ObjectStatusClient } from './object-status.client.js';

export interface ObjectCheckDeps {
  statusClient: ObjectStatusClient;
  writer: LastSeenWriter;
}

/**
 * Checks one object; an online object gets `last_seen = receivedAt` (never backwards). Returning
 * means the row is committed, so the message may be acked; offline objects are simply not
 * refreshed and age out through the cleanup routine.
 */
export function objectCheckHandler(deps: ObjectCheckDeps) {
  return async (message: ObjectCheckRequested, ctx: HandlerContext): Promise<void> => {
    const status = await deps.statusClient.fetchStatus(message.objectId, ctx.signal);
    if (!status.online) return;
    await deps.writer.record(
      { objectId: message.objectId, lastSeen: new Date(message.receivedAt) },
      ctx.signal,
    );
  };
}
