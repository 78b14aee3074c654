import { factorize } from './domain/index.js';
import type { FactorizeOutcome, FactorizeTaskInput } from './factorize.worker.js';
import { compiledSibling, WorkerTaskPool, type TaskProgress } from '@conveyor/runtime';

/**
 * Numbers below this are factorized on the calling thread: at most about half a millisecond
 * (a product of two 20-bit primes; most take microseconds), less than the worker hop itself
 * (a MessageChannel, a transfer and two thread wake-ups) costs, and too short to need progress,
 * a timeout or a way to stop.
 */
export const INLINE_BELOW = 2n ** 40n;

export type FactorizeRun = FactorizeOutcome;

/**
 * Factorization in worker threads, stopped cooperatively (the worker polls a flag). Small
 * numbers skip the pool (INLINE_BELOW).
 */
export class FactorizePool {
  private readonly pool: WorkerTaskPool<FactorizeTaskInput, FactorizeOutcome>;

  constructor(options: { threads: number }) {
    this.pool = new WorkerTaskPool({
      worker: compiledSibling(import.meta.url, 'factorize.worker.js'),
      threads: options.threads,
    });
  }

  async run(
    number: string,
    options: { timeoutMs: number; signal: AbortSignal; onProgress: (p: TaskProgress) => void },
  ): Promise<FactorizeRun> {
    if (options.signal.aborted) return { type: 'stopped' };
    if (isSmall(number)) return { type: 'done', factors: factorize(BigInt(number)).map(String) };
    return this.pool.run(
      { number, deadline: Date.now() + options.timeoutMs },
      { signal: options.signal, onProgress: options.onProgress },
    );
  }

  /** Factorizations that went through a worker thread (small ones run inline). */
  get completedInWorkers(): number {
    return this.pool.completed;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** A short decimal string is compared without parsing the long ones a job may carry (up to 100 digits). */
function isSmall(number: string): boolean {
  return number.length <= 13 && BigInt(number) < INLINE_BELOW;
}
