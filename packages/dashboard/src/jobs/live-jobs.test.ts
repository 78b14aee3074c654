import type { Job } from '@conveyor/contracts';
import { filtersOf } from './job-filters.js';
import { aJob } from './job.fixture.js';
import { applyLiveJobs } from './live-jobs.js';

const job = (id: string, status: Job['status'] = 'queued'): Job => aJob({ id, status });

describe('applyLiveJobs', () => {
  const queuedOnly = filtersOf(new URLSearchParams('status=queued'));

  it('puts new matching jobs on top, replaces shown ones in place, keeps at most maxShown', () => {
    const page = { jobs: [job('b'), job('a')], nextCursor: 'c' };
    const next = applyLiveJobs(
      page,
      [job('c'), job('a', 'running'), job('d', 'running'), job('e')],
      queuedOnly,
      3,
    );
    expect(next.jobs.map((j) => [j.id, j.status])).toEqual([
      ['e', 'queued'],
      ['c', 'queued'],
      ['b', 'queued'],
    ]);
    expect(next.nextCursor).toBe('c');
  });

  it('keeps a shown job that leaves the filter, and answers the same page when nothing applies', () => {
    const page = { jobs: [job('a')], nextCursor: null };
    expect(applyLiveJobs(page, [job('a', 'succeeded')], queuedOnly, 10).jobs[0]?.status).toBe('succeeded');
    expect(applyLiveJobs(page, [job('z', 'failed')], queuedOnly, 10)).toBe(page);
  });
});
