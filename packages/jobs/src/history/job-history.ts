import type { JobError, JobHistoryEntry, JobStatus } from '@conveyor/contracts';

/** One row of job_events as the history needs it. */
export interface RecordedJobEvent {
  sequence: number;
  status: JobStatus;
  attempt: number;
  progress: { fraction: number; message: string | null };
  error: JobError | null;
  occurredAt: Date;
}

/** One webhook delivery attempt of a job. */
export interface RecordedDeliveryAttempt {
  deliveryId: string;
  /** The job event the delivery pushes. */
  sequence: number;
  attempt: number;
  url: string;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  startedAt: Date;
}

/**
 * A job's history, oldest first: each event is a status change, except a `running` event that
 * follows a `running` one, which only recorded progress. Delivery attempts are merged in by
 * time; at the same instant an event comes before the attempts that push it (an attempt is
 * made after its event committed), which the stable sort keeps.
 */
export function jobHistoryEntries(
  events: readonly RecordedJobEvent[],
  attempts: readonly RecordedDeliveryAttempt[],
): JobHistoryEntry[] {
  const bySequence = [...events].sort((a, b) => a.sequence - b.sequence);
  const timed: { at: Date; entry: JobHistoryEntry }[] = [];
  let previous: JobStatus | undefined;
  for (const event of bySequence) {
    const at = event.occurredAt.toISOString();
    const isProgress = event.status === 'running' && previous === 'running';
    timed.push({
      at: event.occurredAt,
      entry: isProgress
        ? { type: 'progress', at, sequence: event.sequence, attempt: event.attempt, progress: event.progress }
        : {
            type: 'status',
            at,
            sequence: event.sequence,
            status: event.status,
            attempt: event.attempt,
            progress: event.progress,
            error: event.error,
          },
    });
    previous = event.status;
  }
  const byStart = [...attempts].sort(
    (a, b) => a.startedAt.getTime() - b.startedAt.getTime() || a.attempt - b.attempt,
  );
  for (const attempt of byStart)
    timed.push({
      at: attempt.startedAt,
      entry: {
        type: 'delivery',
        at: attempt.startedAt.toISOString(),
        deliveryId: attempt.deliveryId,
        sequence: attempt.sequence,
        attempt: attempt.attempt,
        url: attempt.url,
        statusCode: attempt.statusCode,
        latencyMs: attempt.latencyMs,
        error: attempt.error,
      },
    });
  // Array.prototype.sort is stable: ties keep events (pushed first) ahead of attempts.
  return timed.sort((a, b) => a.at.getTime() - b.at.getTime()).map((item) => item.entry);
}
