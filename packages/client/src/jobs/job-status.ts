import type { JobStatus } from '@conveyor/contracts';

/*
 * Kept here rather than imported from @conveyor/contracts, which this published package takes
 * types from only (its JS needs no private package); job-status.test.ts checks they agree.
 */

/** Every status, in the order of a job's life. */
export const JOB_STATUSES = [
  'scheduled',
  'queued',
  'running',
  'succeeded',
  'failed',
  'cancelled',
] as const satisfies readonly JobStatus[];

const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['succeeded', 'failed', 'cancelled']);

export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.has(status);
}
