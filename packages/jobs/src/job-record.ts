import {
  JobStatus,
  type BuiltInJobKind,
  type Job,
  type JobError,
  type JobProgress,
} from '@conveyor/contracts';
import { parseJobData, type BuiltInJobData, type JobData } from './job-catalog.js';
import type { JobRow } from '@conveyor/database';
import { errorMessage } from '@conveyor/platform';

/** What every job has, whatever its kind. */
interface JobFields {
  id: string;
  clientId: string;
  customId: string | null;
  requestHash: string;
  status: JobStatus;
  progress: JobProgress;
  error: JobError | null;
  attempts: number;
  callbackUrl: string | null;
  cancelRequested: boolean;
  sequence: number;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  expiresAt: Date | null;
  expired: boolean;
  /** The W3C traceparent of the request that created it (tracing on), else null. */
  traceParent: string | null;
  /** The job's own timeout per attempt and most attempts; null: its kind's. */
  timeoutMs: number | null;
  maxAttempts: number | null;
  /** A delayed job's due time, else null. */
  runAt: Date | null;
}

/**
 * A job as the services work with it; rows never leave the repository. Its `kind`, `input` and
 * `result` are JobData: typed per built-in kind (narrow with `isJobOfKind`), unknown for a
 * registered one.
 */
export type JobRecord = JobFields & JobData;

/** A job of one built-in kind (or of any of them), its input and result typed by the catalog. */
export type BuiltInJobRecord<K extends BuiltInJobKind = BuiltInJobKind> = JobFields & BuiltInJobData<K>;

/**
 * Parses a row at the boundary: the status, and a built-in kind's input and result against the
 * catalog's schemas, on every read. Eagerly, not lazily: checking these small objects measured
 * cheaper than the driver's own JSON decoding of the same columns, so the job runner's several
 * reads per job spend far more on their SQL round trips than on this, and a bad row fails
 * where it is read rather than wherever a field is first touched.
 */
export function toJobRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    clientId: row.client_id,
    customId: row.custom_id,
    requestHash: row.request_hash,
    status: JobStatus.parse(row.status),
    progress: { fraction: row.progress, message: row.progress_message },
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? '' } : null,
    attempts: row.attempts,
    callbackUrl: row.callback_url,
    cancelRequested: row.cancel_requested,
    sequence: row.sequence,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    expiresAt: row.expires_at,
    expired: row.expired,
    traceParent: row.trace_parent,
    timeoutMs: row.timeout_ms,
    maxAttempts: row.max_attempts,
    runAt: row.run_at,
    ...jobDataOf(row),
  };
}

/** A stored job's kind, input and result, parsed (see toJobRecord); an error names the job. */
export function jobDataOf(row: Pick<JobRow, 'id' | 'kind' | 'input' | 'result'>): JobData {
  try {
    return parseJobData(row.kind, row.input, row.result);
  } catch (error) {
    throw new Error(`job ${row.id}: ${errorMessage(error)}`, { cause: error });
  }
}

/** The API's view of a job. */
export function toApiJob(job: JobRecord): Job {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    customId: job.customId,
    input: job.input,
    progress: job.progress,
    result: job.result ?? null,
    error: job.error,
    attempts: job.attempts,
    callbackUrl: job.callbackUrl,
    createdAt: job.createdAt.toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    expiresAt: iso(job.expiresAt),
    runAt: iso(job.runAt),
    expired: job.expired,
    timeoutMs: job.timeoutMs,
    maxAttempts: job.maxAttempts,
  };
}
