import type { Logger } from '@conveyor/platform';
import {
  classifyJobError,
  runJob,
  type JobContext,
  type JobThreadPool,
  type LoadedJobKind,
} from '@conveyor/worker';
import type { JobWork } from '../job-runner/job.consumer.js';

/**
 * A job module's `run` as the job runner's work: the SDK validates the input, applies the kind's
 * timeout and isolation and checks the result; what it throws becomes a failed outcome, permanent
 * or retried (at the kind's backoff, or when the error says), and a cancelled job's stop is a
 * cancellation whatever `run` threw on its way out.
 */
export function moduleWork(
  kind: LoadedJobKind,
  options: { pool: JobThreadPool | undefined; log: Logger },
): JobWork {
  return async (job, ctx) => {
    const jobContext: JobContext = {
      jobId: job.id,
      customId: job.customId,
      attempt: ctx.attempt,
      signal: ctx.signal,
      progress: (fraction, message) => ctx.reportProgress(Math.min(1, Math.max(0, fraction)), message ?? ''),
      log: options.log.child({ kind: kind.kind, jobId: job.id, attempt: ctx.attempt }),
    };
    try {
      return {
        type: 'succeeded',
        result: await runJob(withJobTimeout(kind, job.timeoutMs), job.input, jobContext, options.pool),
      };
    } catch (error) {
      if (ctx.signal.aborted) return { type: 'cancelled' };
      const failure = classifyJobError(error);
      return {
        type: 'failed',
        error: { code: failure.code, message: failure.message },
        permanent: failure.type === 'permanent',
        retryAfterMs: failure.retryAfterMs,
      };
    }
  };
}

/** The kind as this job runs it: under the job's own timeout when it asked for a shorter one. */
function withJobTimeout(kind: LoadedJobKind, timeoutMs: number | null): LoadedJobKind {
  if (timeoutMs === null || (kind.timeoutMs !== null && timeoutMs >= kind.timeoutMs)) return kind;
  return { ...kind, timeoutMs };
}
