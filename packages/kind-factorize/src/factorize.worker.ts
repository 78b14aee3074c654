/**
 * Runs in a worker thread (piscina): factorization is CPU-bound and must never block the event
 * loop that keeps the AMQP heartbeat and the other jobs alive. The main thread stops it by
 * setting a flag in shared memory, which the algorithm polls between steps.
 */
import type { PooledTaskControl } from '@conveyor/runtime';
import { FactorizationAborted, factorize } from './domain/index.js';

export interface FactorizeTaskInput {
  number: string;
  /** Epoch ms after which the work stops with a timeout. */
  deadline: number;
}

export type FactorizeOutcome =
  { type: 'done'; factors: string[] } | { type: 'stopped' } | { type: 'timeout' };

export default function runFactorize(task: FactorizeTaskInput & PooledTaskControl): FactorizeOutcome {
  const stop = new Int32Array(task.stopFlag);
  let timedOut = false;
  try {
    const factors = factorize(BigInt(task.number), {
      shouldStop: () => {
        if (Date.now() > task.deadline) timedOut = true;
        return timedOut || Atomics.load(stop, 0) !== 0;
      },
      onProgress: (progress) => task.progressPort.postMessage(progress),
    });
    return { type: 'done', factors: factors.map(String) };
  } catch (error) {
    if (error instanceof FactorizationAborted) return timedOut ? { type: 'timeout' } : { type: 'stopped' };
    throw error;
  } finally {
    task.progressPort.close();
  }
}
