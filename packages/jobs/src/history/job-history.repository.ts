import { JobStatus } from '@conveyor/contracts';
import type { Database, Kysely } from '@conveyor/database';
import type { RecordedDeliveryAttempt, RecordedJobEvent } from './job-history.js';

/** A job's events, in sequence order. */
export async function readJobEvents(db: Kysely<Database>, jobId: string): Promise<RecordedJobEvent[]> {
  const rows = await db
    .selectFrom('job_events')
    .select([
      'sequence',
      'status',
      'attempt',
      'progress',
      'progress_message',
      'error_code',
      'error_message',
      'occurred_at',
    ])
    .where('job_id', '=', jobId)
    .orderBy('sequence')
    .execute();
  return rows.map((row) => ({
    sequence: row.sequence,
    status: JobStatus.parse(row.status),
    attempt: row.attempt,
    progress: { fraction: row.progress, message: row.progress_message },
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    occurredAt: row.occurred_at,
  }));
}

/** Every webhook delivery attempt made for a job. */
export async function readDeliveryAttempts(
  db: Kysely<Database>,
  jobId: string,
): Promise<RecordedDeliveryAttempt[]> {
  const rows = await db
    .selectFrom('webhook_attempts as a')
    .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
    .select([
      'a.delivery_id',
      'd.sequence',
      'a.attempt',
      'd.url',
      'a.status_code',
      'a.latency_ms',
      'a.error',
      'a.started_at',
    ])
    .where('d.job_id', '=', jobId)
    .orderBy('a.id')
    .execute();
  return rows.map((row) => ({
    deliveryId: row.delivery_id,
    sequence: row.sequence,
    attempt: row.attempt,
    url: row.url,
    statusCode: row.status_code,
    latencyMs: row.latency_ms,
    error: row.error,
    startedAt: row.started_at,
  }));
}

/** Whether a job has a webhook delivery still to make (pending, or being sent). */
export async function hasOpenDeliveries(db: Kysely<Database>, jobId: string): Promise<boolean> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('job_id', '=', jobId)
    .where('status', 'in', ['pending', 'sending'])
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
