/**
 * The baby-step giant-step layout of ECM stage 2. Every prime q in (B1, B2] is written q = k·D ± j
 * with 0 < j < D/2 and gcd(j, D) = 1; the curve point Q reveals p when x(k·D·Q) ≡ x(j·Q) (mod p),
 * i.e. when (k·D ∓ j)·Q vanishes modulo p. One test covers both signs, so a pair (k, j) is visited
 * when k·D − j or k·D + j is a prime in range.
 */
import { sievePrimalityInRange } from './small-primes.js';

/** D = 2·3·5·7·11: only φ(D)/2 = 240 baby steps for giant steps of 2310. */
export const GIANT_STEP = 2310;
export const BABY_STEPS: readonly number[] = Array.from({ length: GIANT_STEP / 2 }, (_, i) => i).filter(
  (j) => j % 2 === 1 && [3, 5, 7, 11].every((p) => j % p !== 0),
);
/** Giant steps handled together: one modular inversion per chunk, and a bounded sieve. */
export const GIANT_STEPS_PER_CHUNK = 128;
/** Plans up to this size (B2 up to about 10^8) are kept for the following curves; larger ones are re-sieved per curve. */
const MAX_CACHED_PLAN_BYTES = 16 * 2 ** 20;

export interface Stage2Chunk {
  firstGiantStep: number;
  giantSteps: number;
  /** pairs[i·BABY_STEPS.length + b] is 1 when (firstGiantStep + i, BABY_STEPS[b]) must be visited. */
  pairs: Uint8Array;
}

export class Stage2Plan {
  readonly firstGiantStep: number;
  readonly chunkCount: number;
  private readonly lastGiantStep: number;
  private readonly cachedChunks: Stage2Chunk[] | undefined;

  constructor(
    readonly b1: number,
    readonly b2: number,
  ) {
    // Every q in (B1, B2] has k = round(q/D) between these two.
    this.firstGiantStep = Math.max(1, Math.floor(b1 / GIANT_STEP));
    this.lastGiantStep = Math.ceil(b2 / GIANT_STEP);
    const giantSteps = this.lastGiantStep - this.firstGiantStep + 1;
    this.chunkCount = Math.ceil(giantSteps / GIANT_STEPS_PER_CHUNK);
    const cacheable = giantSteps * BABY_STEPS.length <= MAX_CACHED_PLAN_BYTES;
    this.cachedChunks = cacheable
      ? Array.from({ length: this.chunkCount }, (_, i) => this.computeChunk(i))
      : undefined;
  }

  chunk(index: number): Stage2Chunk {
    return this.cachedChunks?.[index] ?? this.computeChunk(index);
  }

  private computeChunk(index: number): Stage2Chunk {
    const firstGiantStep = this.firstGiantStep + index * GIANT_STEPS_PER_CHUNK;
    const giantSteps = Math.min(GIANT_STEPS_PER_CHUNK, this.lastGiantStep - firstGiantStep + 1);
    const low = firstGiantStep * GIANT_STEP - GIANT_STEP / 2;
    const isPrime = sievePrimalityInRange(low, giantSteps * GIANT_STEP + GIANT_STEP);
    const inRangePrime = (q: number): boolean => q > this.b1 && q <= this.b2 && isPrime[q - low] === 1;
    const pairs = new Uint8Array(giantSteps * BABY_STEPS.length);
    for (let i = 0; i < giantSteps; i++) {
      const centre = (firstGiantStep + i) * GIANT_STEP;
      BABY_STEPS.forEach((j, b) => {
        if (inRangePrime(centre - j) || inRangePrime(centre + j)) pairs[i * BABY_STEPS.length + b] = 1;
      });
    }
    return { firstGiantStep, giantSteps, pairs };
  }
}

let latestPlan: Stage2Plan | undefined;

/** The plan for (B1, B2), reusing the previous one: ECM runs many curves with the same bounds. */
export function stage2Plan(b1: number, b2: number): Stage2Plan {
  if (latestPlan?.b1 !== b1 || latestPlan.b2 !== b2) latestPlan = new Stage2Plan(b1, b2);
  return latestPlan;
}
