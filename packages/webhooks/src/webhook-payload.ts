import type { JobEvent } from '@conveyor/contracts';

/** Results larger than this are linked (resultUrl), not inlined in the webhook body. */
const MAX_INLINE_RESULT_BYTES = 16 * 1024;

/** The JSON body pushed to a client's webhook for one job event: its result inline, or a link to it. */
export type WebhookPayload = Pick<
  JobEvent,
  'eventId' | 'jobId' | 'customId' | 'kind' | 'status' | 'sequence' | 'progress' | 'error' | 'occurredAt'
> &
  ({ result: unknown } | { resultUrl: string });

export function webhookPayload(event: JobEvent, publicBaseUrl: string): WebhookPayload {
  const result = event.result === null ? null : JSON.stringify(event.result);
  const inline = result !== null && Buffer.byteLength(result) <= MAX_INLINE_RESULT_BYTES;
  return {
    eventId: event.eventId,
    jobId: event.jobId,
    customId: event.customId,
    kind: event.kind,
    status: event.status,
    sequence: event.sequence,
    progress: event.progress,
    ...(result === null
      ? { result: null }
      : inline
        ? { result: event.result }
        : { resultUrl: `${publicBaseUrl}/v1/jobs/${event.jobId}` }),
    error: event.error,
    occurredAt: event.occurredAt,
  };
}
