import type { JobStatus } from '@conveyor/contracts';

/**
 * The final statuses. Kept here rather than imported from @conveyor/contracts, which this
 * published package only takes types from; job-status.test.ts checks they agree.
 */
const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['succeeded', 'failed', 'cancelled']);

export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.has(status);
}
