import type { FactorizeResult } from '@conveyor/contracts';
import type { FactorizePool } from './factorize-pool.js';
import { builtInWork } from '../job-runner/built-in-work.js';
import type { JobWork } from '../job-runner/job.consumer.js';

/** Factorizes in the worker pool and checks the product of the factors against the input. */
export function factorizeWork(pool: FactorizePool, timeoutMs: number): JobWork {
  return builtInWork('factorize', async (job, ctx) => {
    const { number } = job.input;
    const run = await pool.run(number, {
      timeoutMs,
      signal: ctx.signal,
      onProgress: (p) => ctx.reportProgress(p.fraction, p.message),
    });
    switch (run.type) {
      case 'done': {
        const product = run.factors.reduce((acc, f) => acc * BigInt(f), 1n).toString();
        if (product !== number) {
          return {
            type: 'failed',
            error: { code: 'verification_failed', message: `factors multiply to ${product}, not ${number}` },
            permanent: false,
          };
        }
        const result: FactorizeResult = { factors: run.factors, product, verified: true };
        return { type: 'succeeded', result };
      }
      case 'stopped':
        return { type: 'cancelled' };
      case 'timeout':
        return {
          type: 'failed',
          error: {
            code: 'timeout',
            message: `factorization did not finish within FACTORIZE_TIMEOUT_MS (${timeoutMs} ms)`,
          },
          permanent: true,
        };
      default: {
        const unknownRun: never = run;
        throw new Error(`unknown run ${JSON.stringify(unknownRun)}`);
      }
    }
  });
}
