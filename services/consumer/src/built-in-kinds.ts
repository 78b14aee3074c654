import { ConcurrencyLimit } from '@conveyor/platform';
import { openBlobStore, storeSettingsFrom } from '@conveyor/storage';
import { loadJobDefinitions, type LoadedJobKind, type RetryPolicy } from '@conveyor/worker';
import type { BuiltInWork, ConsumerConfig } from './config.js';
import { csvSumJob, csvSumPool } from '@conveyor/kind-csv-sum';
import { factorizeJob, FactorizePool } from '@conveyor/kind-factorize';
import { configureSharp, imageResizeJob } from '@conveyor/kind-image-resize';

/**
 * The three kinds Conveyor ships, defined with the same SDK as any team's job module and hosted
 * the same way; what a module cannot do (take the host's settings, own a worker pool) is why they
 * are built here from the configuration. They retry on the operator's RETRY_DELAYS_MS tiers.
 */
export class BuiltInKinds {
  readonly kinds: LoadedJobKind[];
  private readonly factorizePool: FactorizePool | undefined;
  private readonly csvSumPool: ReturnType<typeof csvSumPool> | undefined;

  /** Only the kinds in `selected`: a kind not run here starts no worker pool either. */
  constructor(config: ConsumerConfig, selected: readonly BuiltInWork[]) {
    const retry: RetryPolicy = {
      maxAttempts: config.MAX_ATTEMPTS,
      backoff: { type: 'tiers', delaysMs: config.RETRY_DELAYS_MS },
    };
    const factorizePool = selected.includes('factorize')
      ? new FactorizePool({ threads: config.FACTORIZE_WORKERS })
      : undefined;
    const sumPool = selected.includes('csv-sum') ? csvSumPool(config.CSV_SUM_WORKERS) : undefined;
    this.factorizePool = factorizePool;
    this.csvSumPool = sumPool;
    if (selected.includes('image-resize')) configureSharp({ concurrency: config.SHARP_THREADS });
    this.kinds = loadJobDefinitions(
      [
        factorizePool &&
          factorizeJob({
            pool: factorizePool,
            timeoutMs: config.FACTORIZE_TIMEOUT_MS,
            concurrency: config.FACTORIZE_CONCURRENCY,
            retry,
          }),
        sumPool &&
          csvSumJob({
            pool: sumPool,
            storage: storeSettingsFrom(config),
            concurrency: config.CSV_SUM_CONCURRENCY,
            retry,
          }),
        selected.includes('image-resize') &&
          imageResizeJob({
            store: openBlobStore(config.IMAGE_STORE, storeSettingsFrom(config)),
            bucket: config.IMAGE_BUCKET,
            limits: {
              maxDimension: config.IMAGE_MAX_DIMENSION,
              maxInputPixels: config.IMAGE_MAX_PIXELS,
              maxInputBytes: config.IMAGE_MAX_INPUT_BYTES,
            },
            resizes: new ConcurrencyLimit(config.IMAGE_RESIZES_AT_ONCE),
            concurrency: config.IMAGE_CONCURRENCY,
            retry,
          }),
      ].filter((definition) => definition !== undefined && definition !== false),
      'the built-in kinds',
    );
  }

  async close(): Promise<void> {
    await this.factorizePool?.close();
    await this.csvSumPool?.close();
  }
}
