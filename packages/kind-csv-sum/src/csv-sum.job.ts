import { CsvSumInput, CsvSumResult } from './contract.js';
import type { StoreSettings } from '@conveyor/storage';
import { defineJob, PermanentJobError, type RetryPolicy } from '@conveyor/worker';
import { compiledSibling, WorkerTaskPool } from '@conveyor/runtime';
import type { CsvSumOutcome, CsvSumTask } from './csv-sum.worker.js';

/** The worker threads csv-sum jobs read and sum in (CSV_SUM_WORKERS). */
export function csvSumPool(threads: number): WorkerTaskPool<CsvSumTask, CsvSumOutcome> {
  return new WorkerTaskPool({ worker: compiledSibling(import.meta.url, 'csv-sum.worker.js'), threads });
}

export interface CsvSumJobSettings {
  pool: WorkerTaskPool<CsvSumTask, CsvSumOutcome>;
  /** Where the CSV files are read from: the local root and the S3 endpoint and credentials. */
  storage: StoreSettings;
  concurrency: number;
  retry: RetryPolicy;
}

/**
 * The `csv-sum` kind on the public SDK: every Nth column of a stored CSV summed exactly, in its
 * own worker pool (the SDK's isolation stays 'inline': `run` only waits for the pool).
 */
export function csvSumJob(settings: CsvSumJobSettings) {
  return defineJob({
    kind: 'csv-sum',
    version: 1,
    input: CsvSumInput,
    result: CsvSumResult,
    concurrency: settings.concurrency,
    retry: settings.retry,
    isolation: 'inline',
    async run(input, ctx) {
      const outcome = await settings.pool.run(
        { input, settings: settings.storage },
        { signal: ctx.signal, onProgress: (p) => ctx.progress(p.fraction, p.message) },
      );
      switch (outcome.type) {
        case 'done':
          return outcome.result;
        case 'stopped':
          throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('stopped');
        case 'failed':
          if (outcome.permanent) throw new PermanentJobError(outcome.message, { code: outcome.code });
          throw Object.assign(new Error(outcome.message), { code: outcome.code });
        default: {
          const unknownOutcome: never = outcome;
          throw new Error(`unknown outcome ${JSON.stringify(unknownOutcome)}`);
        }
      }
    },
  });
}
