import type { JobStatus } from '@conveyor/contracts';
import type { JobRecord } from '@conveyor/jobs';
import type { Metrics } from '@conveyor/platform';

type EndStatus = Extract<JobStatus, 'succeeded' | 'failed' | 'cancelled'>;

/** What the job runner reports of one kind's runs; every label child is bound when made. */
export interface JobRunMetrics {
  /** A run begins: counted, and the queue wait observed on a job's first run. */
  started(job: JobRecord, startedAt: Date): void;
  /** A run's end committed with a final status (a retry is not an end). */
  finished(job: JobRecord, status: JobStatus, startedAt: Date, finishedAt: Date): void;
}

/**
 * Timestamps are the job's own: `createdAt` (the database's clock, at insert) and the run's start
 * and end (this process's clock), so a skew between the two clocks can make a short wait negative;
 * it counts as 0. A retry's wait is left out of the queue wait: it is the kind's backoff, not a
 * shortage of workers; so is a delayed job's delay (its wait counts from its runAt).
 */
export function jobRunMetrics(metrics: Metrics, kind: string): JobRunMetrics {
  const { jobs } = metrics;
  const started = jobs.started.labels({ kind });
  const queueWait = jobs.queueWaitSeconds.labels({ kind });
  const bind = (status: EndStatus) => ({
    finished: jobs.finished.labels({ kind, status }),
    run: jobs.runSeconds.labels({ kind, status }),
    endToEnd: jobs.endToEndSeconds.labels({ kind, status }),
  });
  const ends: Record<EndStatus, ReturnType<typeof bind>> = {
    succeeded: bind('succeeded'),
    failed: bind('failed'),
    cancelled: bind('cancelled'),
  };
  const seconds = (from: Date, to: Date) => Math.max(0, to.getTime() - from.getTime()) / 1000;
  return {
    started(job, startedAt) {
      started.inc();
      if (job.attempts === 0) queueWait.observe(seconds(dueAt(job), startedAt));
    },
    finished(job, status, startedAt, finishedAt) {
      switch (status) {
        case 'succeeded':
        case 'failed':
        case 'cancelled': {
          const end = ends[status];
          end.finished.inc();
          end.run.observe(seconds(startedAt, finishedAt));
          end.endToEnd.observe(seconds(job.createdAt, finishedAt));
          return;
        }
        case 'scheduled':
        case 'queued':
        case 'running':
          return;
        default: {
          const unknownStatus: never = status;
          throw new Error(`unknown job status ${String(unknownStatus)}`);
        }
      }
    },
  };
}

/** When a job could first run: its creation, or a delayed job's runAt. */
function dueAt(job: JobRecord): Date {
  return job.runAt !== null && job.runAt > job.createdAt ? job.runAt : job.createdAt;
}
