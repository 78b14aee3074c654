/**
 * Pollard's rho with Brent's cycle detection: x ↦ x² + c modulo n, whose sequence modulo an unknown
 * prime p | n becomes periodic after about √p steps; the period shows as gcd(x_i − x_j, n) > 1.
 *
 * Brent's batching: the differences are multiplied together and a single gcd taken per batch. When
 * a batch's gcd is n (the factor and its cofactor appeared in the same batch, or the cycle closed
 * modulo n itself), the batch is replayed one gcd per step.
 */
import { LimbRhoWalk } from './rho-limbs.js';
import { WORD_MODULUS_LIMIT, WordRhoWalk } from './rho-word.js';
import type { RhoWalk } from './rho-walk.js';
import type { WorkMonitor } from './work-monitor.js';

/**
 * Steps per gcd. A gcd of two 100-bit BigInts costs about as much as a few dozen steps, so 256 makes
 * it a small overhead, while the replay after an unlucky batch stays short.
 */
const BATCH_STEPS = 256;
/** Any start works; 2 is the customary one. */
const START = 2n;

export interface RhoSearch {
  /** The constant c of x ↦ x² + c; a sequence that closes on n is retried with another. */
  increment: bigint;
  /** Give up (return undefined) after this many steps. */
  maxSteps: number;
  monitor: WorkMonitor;
}

/** A proper factor of the odd composite n, or undefined when the step budget ran out or the cycle closed on n. */
export function pollardBrent(n: bigint, search: RhoSearch): bigint | undefined {
  const walk =
    n < WORD_MODULUS_LIMIT
      ? new WordRhoWalk(n, search.increment, START)
      : new LimbRhoWalk(n, search.increment, START);
  let steps = 0;
  for (let cycleLength = 1; steps < search.maxSteps; cycleLength *= 2) {
    walk.closeCycle();
    // In batches too: the monitor must be polled, and WebAssembly only switches from its baseline
    // to its optimised code between calls.
    for (let done = 0; done < cycleLength; done += BATCH_STEPS) {
      walk.advance(Math.min(BATCH_STEPS, cycleLength - done));
      search.monitor.checkpoint();
    }
    steps += cycleLength;
    for (let done = 0; done < cycleLength && steps < search.maxSteps; done += BATCH_STEPS) {
      walk.saveBatchStart();
      const batch = Math.min(BATCH_STEPS, cycleLength - done);
      walk.accumulate(batch);
      steps += batch;
      const g = walk.productGcd();
      if (g === n) return replayBatch(walk, n, batch);
      if (g !== 1n) return g;
      search.monitor.setStage(`rho step ${steps}`, 0.1 * (steps / search.maxSteps));
    }
  }
  return undefined;
}

/** Redo a batch from its saved start, one gcd per step, to separate factors that it found together. */
function replayBatch(walk: RhoWalk, n: bigint, batch: number): bigint | undefined {
  walk.restoreBatchStart();
  for (let i = 0; i < batch; i++) {
    walk.advance(1);
    const g = walk.differenceGcd();
    if (g !== 1n) return g === n ? undefined : g;
  }
  return undefined;
}
