import type { Job, JobPage } from '@conveyor/contracts';
import { matches, type JobFilters } from './job-filters.js';

/**
 * The list with jobs from the live stream applied, oldest event first: a shown job is replaced
 * in place (even when it leaves the filter: the operator sees it move on instead of vanishing),
 * a new one that matches goes on top; past `maxShown` the oldest rows fall off.
 */
export function applyLiveJobs(
  page: JobPage,
  arrived: readonly Job[],
  filters: JobFilters,
  maxShown: number,
): JobPage {
  let jobs = page.jobs;
  for (const job of arrived) {
    if (jobs.some((shown) => shown.id === job.id))
      jobs = jobs.map((shown) => (shown.id === job.id ? job : shown));
    else if (matches(filters, job)) jobs = [job, ...jobs];
  }
  return jobs === page.jobs ? page : { ...page, jobs: jobs.slice(0, maxShown) };
}
