import type { HandlerContext } from '@conveyor/broker';
import type { JobEvent } from '@conveyor/contracts';
import { webhookPayload } from '@conveyor/webhooks';
import { retryUntilSuccess } from '@conveyor/platform';
import type { EventRecorder } from './event-recorder.js';

/**
 * Turns job events into delivery rows. Returning acks the event, so it returns only once the
 * row is committed; while PostgreSQL is away it keeps retrying and the event stays unacked.
 */
export function jobEventHandler(deps: { recorder: EventRecorder; publicBaseUrl: string }) {
  return async (event: JobEvent, ctx: HandlerContext): Promise<void> => {
    if (!event.callbackUrl) return;
    const payload = JSON.stringify(webhookPayload(event, deps.publicBaseUrl));
    const withUrl = { ...event, callbackUrl: event.callbackUrl };
    await retryUntilSuccess(
      'recording a webhook delivery',
      () => deps.recorder.record({ event: withUrl, payload }),
      { log: ctx.log, signal: ctx.signal },
    );
  };
}
