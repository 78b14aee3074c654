import type { Job, JobError, JobKind, JobProgress, JobStatus } from '@conveyor/contracts';
import type { JobRow } from '@conveyor/database';

/** A job as the services work with it; rows never leave the repository. */
export interface JobRecord {
  id: string;
  clientId: string;
  kind: JobKind;
  customId: string | null;
  requestHash: string;
  input: unknown;
  status: JobStatus;
  progress: JobProgress;
  result: unknown;
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
}

export function toJobRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    clientId: row.client_id,
    kind: row.kind,
    customId: row.custom_id,
    requestHash: row.request_hash,
    input: row.input,
    status: row.status as JobStatus,
    progress: { fraction: row.progress, message: row.progress_message },
    result: row.result ?? null,
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
  };
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
    expired: job.expired,
  };
}
