import { FactorizeInput, FactorizeResult } from './contract.js';
import { defineJob, PermanentJobError, type RetryPolicy } from '@conveyor/worker';
import type { FactorizePool } from './factorize-pool.js';

export interface FactorizeJobSettings {
  pool: FactorizePool;
  /** FACTORIZE_TIMEOUT_MS: the pool's own deadline, so a CPU-bound run stops itself on time. */
  timeoutMs: number;
  concurrency: number;
  retry: RetryPolicy;
}

/**
 * The `factorize` kind on the public SDK, like any team's job module; it takes its settings from
 * the host, which is why it is a function rather than a module's default export. The work runs
 * in its own worker pool (cooperative stop, progress from the thread), so the SDK's isolation
 * is 'inline': `run` only waits.
 */
export function factorizeJob(settings: FactorizeJobSettings) {
  const { pool, timeoutMs } = settings;
  return defineJob({
    kind: 'factorize',
    version: 1,
    input: FactorizeInput,
    result: FactorizeResult,
    concurrency: settings.concurrency,
    retry: settings.retry,
    // Registered, so a job may ask for less (the SDK aborts `run` then); the thread's own deadline
    // below stops the computation itself at the same time.
    timeoutMs,
    isolation: 'inline',
    async run({ number }, ctx) {
      const run = await pool.run(number, {
        timeoutMs,
        signal: ctx.signal,
        onProgress: (p) => ctx.progress(p.fraction, p.message),
      });
      switch (run.type) {
        case 'done': {
          const product = run.factors.reduce((acc, f) => acc * BigInt(f), 1n).toString();
          // Transient: a wrong product is a bug of the moment (a flipped bit), worth another try.
          if (product !== number)
            throw Object.assign(new Error(`factors multiply to ${product}, not ${number}`), {
              code: 'verification_failed',
            });
          return { factors: run.factors, product, verified: true };
        }
        case 'stopped':
          throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('stopped');
        case 'timeout':
          throw new PermanentJobError(
            `factorization did not finish within FACTORIZE_TIMEOUT_MS (${timeoutMs} ms)`,
            { code: 'timeout' },
          );
        default: {
          const unknownRun: never = run;
          throw new Error(`unknown run ${JSON.stringify(unknownRun)}`);
        }
      }
    },
  });
}
