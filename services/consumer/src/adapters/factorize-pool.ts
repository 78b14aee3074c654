import { MessageChannel } from 'node:worker_threads';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { factorize } from '../domain/factorization/index.js';
import type { FactorizeOutcome, FactorizeTask } from '../workers/factorize.worker.js';

/**
 * Numbers below this are factorized on the calling thread: at most about half a millisecond
 * (a product of two 20-bit primes; most take microseconds), less than the worker hop itself
 * (a MessageChannel, a transfer and two thread wake-ups) costs, and too short to need progress,
 * a timeout or a way to stop.
 */
export const INLINE_BELOW = 2n ** 40n;

export interface FactorizeProgress {
  fraction: number;
  message: string;
}

export type FactorizeRun = { type: 'done'; factors: string[] } | { type: 'stopped' } | { type: 'timeout' };

/**
 * A pool of worker threads for factorization; `stop` is cooperative (the worker polls a flag).
 * Small numbers skip the pool (INLINE_BELOW).
 */
export class FactorizePool {
  private readonly pool: Piscina;

  constructor(options: { workerDir: string; threads: number }) {
    this.pool = new Piscina({
      filename: join(options.workerDir, 'factorize.worker.js'),
      minThreads: 1,
      maxThreads: options.threads,
      // A thread per job at a time: queueing happens in RabbitMQ (prefetch), not in here.
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
    });
  }

  async run(number: string, options: { timeoutMs: number; signal: AbortSignal; onProgress: (p: FactorizeProgress) => void }): Promise<FactorizeRun> {
    if (options.signal.aborted) return { type: 'stopped' };
    if (isSmall(number)) return { type: 'done', factors: factorize(BigInt(number)).map(String) };
    const stopFlag = new SharedArrayBuffer(4);
    const stop = () => Atomics.store(new Int32Array(stopFlag), 0, 1);
    options.signal.addEventListener('abort', stop, { once: true });
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (progress: FactorizeProgress) => options.onProgress(progress));
    try {
      const task: FactorizeTask = { number, stopFlag, deadline: Date.now() + options.timeoutMs, progressPort: port2 };
      return (await this.pool.run(task, { transferList: [port2] })) as FactorizeOutcome;
    } finally {
      options.signal.removeEventListener('abort', stop);
      port1.close();
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/** A short decimal string is compared without parsing the long ones a job may carry (up to 100 digits). */
function isSmall(number: string): boolean {
  return number.length <= 13 && BigInt(number) < INLINE_BELOW;
}
