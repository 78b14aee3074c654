import type { StoreSettings } from '@conveyor/storage';
import type { WorkerTaskPool } from '../worker-threads/worker-task-pool.js';
import type { CsvSumOutcome, CsvSumTask } from './csv-sum.worker.js';
import { builtInWork } from '../job-runner/built-in-work.js';
import type { JobWork } from '../job-runner/job.consumer.js';

/** Sums every Nth column of a stored CSV in the worker pool. */
export function csvSumWork(
  pool: WorkerTaskPool<CsvSumTask, CsvSumOutcome>,
  settings: StoreSettings,
): JobWork {
  return builtInWork('csv-sum', async (job, ctx) => {
    const outcome = await pool.run(
      { input: job.input, settings },
      { signal: ctx.signal, onProgress: (p) => ctx.reportProgress(p.fraction, p.message) },
    );
    switch (outcome.type) {
      case 'done':
        return { type: 'succeeded', result: outcome.result };
      case 'stopped':
        return { type: 'cancelled' };
      case 'failed':
        return {
          type: 'failed',
          error: { code: outcome.code, message: outcome.message },
          permanent: outcome.permanent,
        };
      default: {
        const unknownOutcome: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(unknownOutcome)}`);
      }
    }
  });
}
