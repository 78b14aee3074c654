import type { FactorizeResult } from '@conveyor/kind-factorize/contract';
import { JobError, type JobStatus } from '@conveyor/contracts';
import { z } from 'zod';

/**
 * What the old APIs show of a job: no more than these fields of a JobRecord. Only the
 * factorization service showed a result (the image service served the image itself).
 */
export interface LegacyJobView {
  status: JobStatus;
  attempts: number;
  error: JobError | null;
  result: FactorizeResult | null;
  expired: boolean;
}

/**
 * Celery's task states, the words the image service's clients poll for (its own test suite
 * asserts the status is one of them). PENDING is Celery's word for a task it has never heard
 * of, which the old service answered with a 404, and so do we: no job is ever PENDING.
 */
export const CELERY_STATES = ['PENDING', 'SENT', 'STARTED', 'RETRY', 'FAILURE', 'SUCCESS'] as const;
type CeleryState = (typeof CELERY_STATES)[number];

/** The image service's `GET /api/v1/status/{id}` body. */
export const CeleryStatus = z.object({ status: z.enum(CELERY_STATES) });

/** A job's status as the image service's `GET /api/v1/status/{id}` said it. */
export function celeryStateOf(job: Pick<LegacyJobView, 'status' | 'attempts' | 'error'>): CeleryState {
  switch (job.status) {
    case 'scheduled':
      // Waiting for its runAt: accepted and not started, which Celery says as SENT too.
      return 'SENT';
    case 'queued':
      // A failed attempt goes back to queued with its error until the retry tier hands the
      // message back; starting again clears the error. A fresh job has neither.
      return job.attempts > 0 && job.error !== null ? 'RETRY' : 'SENT';
    case 'running':
      return 'STARTED';
    case 'succeeded':
      return 'SUCCESS';
    case 'failed':
    case 'cancelled':
      return 'FAILURE';
    default: {
      const unknownStatus: never = job.status;
      throw new Error(`unknown job status ${String(unknownStatus)}`);
    }
  }
}

/** The factorization service's `GET /get/<task_id>` body while a task is not finished. */
const CALCULATING = 'Calculating...';

/** The factorization service's `GET /get/<task_id>` body. */
export const FactorizationAnswer = z.object({
  result: z
    .string()
    .meta({ description: '`2,617` once done, `Calculating...` before, `Failed` or `Cancelled`' }),
  error: JobError.optional(),
});
type FactorizationAnswer = z.infer<typeof FactorizationAnswer>;

/**
 * A factorize job as the factorization service's `GET /get/<task_id>` answered it: the factors
 * joined by commas (`"2,617"`; a prime gives itself) once done, `"Calculating..."` before.
 * Undefined when there is no result to show any more (dropped after its retention), which the
 * old service, whose results lived in Redis, answered as a task that does not exist. The old
 * service had no failure state (a task that died said "Calculating..." forever); ours says so.
 */
export function factorizationAnswer(job: LegacyJobView): FactorizationAnswer | undefined {
  switch (job.status) {
    case 'scheduled':
    case 'queued':
    case 'running':
      return { result: CALCULATING };
    case 'succeeded': {
      if (job.expired || job.result === null) return undefined;
      return { result: job.result.factors.join(',') };
    }
    case 'failed':
      return { result: 'Failed', ...(job.error ? { error: job.error } : {}) };
    case 'cancelled':
      return { result: 'Cancelled' };
    default: {
      const unknownStatus: never = job.status;
      throw new Error(`unknown job status ${String(unknownStatus)}`);
    }
  }
}
