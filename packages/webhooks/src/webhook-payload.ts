import type { JobEvent, WebhookPayload } from '@conveyor/contracts';

export type { WebhookPayload };

/** Results larger than this are linked (resultUrl), not inlined in the webhook body. */
const MAX_INLINE_RESULT_BYTES = 16 * 1024;

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
