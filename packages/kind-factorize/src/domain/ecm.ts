/**
 * Lenstra's elliptic curve method, on Montgomery curves with Suyama's parametrisation (group order
 * divisible by 12). A curve finds a prime p | n when its group order modulo p is B1-smooth apart from
 * at most one prime up to B2: stage 1 multiplies the start point by every prime power ≤ B1, stage 2
 * (baby-step giant-step, see ecm-stage2-plan.ts) tries each remaining prime q in (B1, B2] at the cost
 * of about one modular multiplication.
 */
import { gcd, mod, modInverse } from './bigint-math.js';
import {
  BABY_STEPS,
  GIANT_STEP,
  GIANT_STEPS_PER_CHUNK,
  stage2Plan,
  type Stage2Plan,
} from './ecm-stage2-plan.js';
import { MontgomeryCurve, toAffineBatch, type Point } from './montgomery-curve.js';
import { MontgomeryDomain, type Residue } from './montgomery.js';
import type { Random } from './prng.js';
import { primesBelow } from './small-primes.js';
import type { WorkMonitor } from './work-monitor.js';

export interface EcmLevel {
  b1: number;
  curves: number;
}

/**
 * GMP-ECM's recommended B1 and expected number of curves for factors of 15, 20, 25, … 50 digits.
 * After the last level the search keeps running curves at that level.
 */
export const ECM_SCHEDULE: readonly EcmLevel[] = [
  { b1: 2_000, curves: 25 },
  { b1: 11_000, curves: 90 },
  { b1: 50_000, curves: 300 },
  { b1: 250_000, curves: 700 },
  { b1: 1_000_000, curves: 1_800 },
  { b1: 3_000_000, curves: 5_100 },
  { b1: 11_000_000, curves: 10_600 },
  { b1: 43_000_000, curves: 19_300 },
];
/** Stage 2 bound relative to B1: there it costs about half as much as stage 1. */
const B2_PER_B1 = 100;
/** Suyama's σ must avoid a few small values (0, ±1, ±3, ±5) that give singular curves. */
const SIGMA_MIN = 6;
/**
 * Stage 1 multiplies by the prime powers in blocks of about this many bits: each block is one ladder,
 * followed by one modular inversion (to keep the base point affine) that costs far less.
 */
const STAGE1_BLOCK_BITS = 16_384;

/** Runs curves of growing B1 until one yields a proper factor of the odd composite n. */
export function ecmFindFactor(n: bigint, monitor: WorkMonitor, random: Random): bigint {
  const domain = new MontgomeryDomain(n);
  for (let level = 0; ; level = Math.min(level + 1, ECM_SCHEDULE.length - 1)) {
    const { b1, curves } = ECM_SCHEDULE[level]!;
    for (let curve = 1; curve <= curves; curve++) {
      const searched = (level + (curve - 1) / curves) / ECM_SCHEDULE.length;
      monitor.setStage(`ecm B1=${b1} curve ${curve}/${curves}`, 0.1 + 0.9 * searched);
      const sigma = BigInt(SIGMA_MIN + (random() % (2 ** 32 - SIGMA_MIN)));
      const factor = ecmCurve(domain, sigma, { b1, b2: B2_PER_B1 * b1 }, monitor);
      if (factor !== undefined) return factor;
    }
  }
}

export interface EcmBounds {
  /** Stage 1 bound; at least GIANT_STEP/2, so that stage 2's giant steps start at k ≥ 1. */
  b1: number;
  /** Stage 2 bound; b2 ≤ b1 skips stage 2. */
  b2: number;
}

/** One curve with Suyama parameter σ: a proper factor of n, or undefined. */
export function ecmCurve(
  domain: MontgomeryDomain,
  sigma: bigint,
  bounds: EcmBounds,
  monitor: WorkMonitor,
): bigint | undefined {
  const n = domain.modulus;
  const setup = suyamaCurve(domain, sigma);
  if (typeof setup === 'bigint') return properFactor(setup, n);
  const afterStage1 = stage1(setup.curve, setup.startX, bounds.b1, monitor);
  if (typeof afterStage1 === 'bigint') return properFactor(afterStage1, n);
  if (bounds.b2 <= bounds.b1) return undefined;
  const q = { x: afterStage1, z: domain.copyOf(domain.one) };
  return properFactor(stage2(setup.curve, q, stage2Plan(bounds.b1, bounds.b2), monitor), n);
}

function properFactor(divisor: bigint, n: bigint): bigint | undefined {
  return divisor > 1n && divisor < n ? divisor : undefined;
}

interface SuyamaCurve {
  curve: MontgomeryCurve;
  /** Affine x of the start point. */
  startX: Residue;
}

/**
 * u = σ² − 5, v = 4σ: start point (u³ : v³) on the curve with (A + 2)/4 = (v − u)³(3u + v)/(16u³v).
 * Both divisions share one inversion; when it fails, returns the gcd that made it fail.
 */
function suyamaCurve(domain: MontgomeryDomain, sigma: bigint): SuyamaCurve | bigint {
  const n = domain.modulus;
  const u = mod(sigma * sigma - 5n, n);
  const v = mod(4n * sigma, n);
  const startXNumerator = u ** 3n % n;
  const startZ = v ** 3n % n;
  const a24Numerator = mod((v - u) ** 3n * (3n * u + v), n);
  const a24Denominator = (16n * startXNumerator * v) % n;
  const bothDenominators = (a24Denominator * startZ) % n;
  const inverse = modInverse(bothDenominators, n);
  if (inverse === undefined) return gcd(bothDenominators, n);
  const a24 = (((a24Numerator * startZ) % n) * inverse) % n;
  const startX = (((startXNumerator * a24Denominator) % n) * inverse) % n;
  return { curve: new MontgomeryCurve(domain, domain.fromBigInt(a24)), startX: domain.fromBigInt(startX) };
}

/** The affine x of (Π prime powers ≤ B1)·start, or the gcd that stopped a normalisation. */
function stage1(curve: MontgomeryCurve, startX: Residue, b1: number, monitor: WorkMonitor): Residue | bigint {
  const domain = curve.domain;
  const x = domain.copyOf(startX);
  const point = curve.newPoint();
  const scratch = curve.newPoint();
  const prefix = [domain.create()];
  const checkpoint = (): void => monitor.checkpoint();
  for (const block of stage1Blocks(b1)) {
    curve.ladder(x, block, point, scratch, checkpoint);
    const divisor = toAffineBatch(domain, [point.x], [point.z], 1, prefix);
    if (divisor !== undefined) return divisor;
    x.set(point.x);
  }
  return x;
}

/** Binary strings of products of the largest powers of each prime p ≤ B1 that stay ≤ B1. */
function* stage1Blocks(b1: number): Generator<string> {
  let block = 1n;
  let blockBits = 0;
  for (const p of primesBelow(b1 + 1)) {
    let power = p;
    while (power * p <= b1) power *= p;
    block *= BigInt(power);
    blockBits += Math.log2(power);
    if (blockBits >= STAGE1_BLOCK_BITS) {
      yield block.toString(2);
      block = 1n;
      blockBits = 0;
    }
  }
  if (block > 1n) yield block.toString(2);
}

/**
 * Stage 2 from the affine point q: multiplies x(k·D·q) − x(j·q) over the plan's pairs into one
 * accumulator and returns its gcd with n (or the gcd that stopped a normalisation).
 */
function stage2(curve: MontgomeryCurve, q: Point, plan: Stage2Plan, monitor: WorkMonitor): bigint {
  const domain = curve.domain;
  const prefix = Array.from({ length: Math.max(BABY_STEPS.length, GIANT_STEPS_PER_CHUNK) }, () =>
    domain.create(),
  );
  const baby = babySteps(curve, q);
  const babyFailure = toAffineBatch(domain, baby.xs, baby.zs, BABY_STEPS.length, prefix);
  if (babyFailure !== undefined) return babyFailure;

  const giant = curve.newPoint(); // D·q, then made affine
  curve.ladder(q.x, GIANT_STEP.toString(2), giant, curve.newPoint(), () => monitor.checkpoint());
  const giantFailure = toAffineBatch(domain, [giant.x], [giant.z], 1, prefix);
  if (giantFailure !== undefined) return giantFailure;
  giant.z.set(domain.one);

  // The walk k·giant, (k + 1)·giant; each next multiple is a differential addition.
  let current = curve.newPoint();
  let next = curve.newPoint();
  let spare = curve.newPoint();
  curve.ladder(giant.x, plan.firstGiantStep.toString(2), current, next, () => monitor.checkpoint());

  const chunkXs = Array.from({ length: GIANT_STEPS_PER_CHUNK }, () => domain.create());
  const chunkZs = Array.from({ length: GIANT_STEPS_PER_CHUNK }, () => domain.create());
  const accumulator = domain.copyOf(domain.one);
  const difference = domain.create();
  for (let c = 0; c < plan.chunkCount; c++) {
    const { giantSteps, pairs } = plan.chunk(c);
    for (let i = 0; i < giantSteps; i++) {
      chunkXs[i]!.set(current.x);
      chunkZs[i]!.set(current.z);
      curve.add(next, giant, current, spare);
      [current, next, spare] = [next, spare, current];
    }
    const chunkFailure = toAffineBatch(domain, chunkXs, chunkZs, giantSteps, prefix);
    if (chunkFailure !== undefined) return chunkFailure;
    for (let i = 0; i < giantSteps; i++) {
      const giantX = chunkXs[i]!;
      const row = i * BABY_STEPS.length;
      for (let b = 0; b < BABY_STEPS.length; b++) {
        if (pairs[row + b] === 0) continue;
        domain.sub(giantX, baby.xs[b]!, difference);
        domain.mul(accumulator, difference, accumulator);
      }
      monitor.checkpoint();
    }
  }
  return gcd(domain.rawValue(accumulator), domain.modulus);
}

/** j·q for j in BABY_STEPS, through the odd multiples: (j + 2)·q = j·q + 2q, with difference (j − 2)·q. */
function babySteps(curve: MontgomeryCurve, q: Point): { xs: Residue[]; zs: Residue[] } {
  const domain = curve.domain;
  const xs: Residue[] = [];
  const zs: Residue[] = [];
  const twice = curve.newPoint();
  curve.double(q, twice);
  let previous = copyPoint(q); // (j − 2)·q; for j = 1 that is −q, which has the same x as q
  let current = copyPoint(q);
  let spare = curve.newPoint();
  for (let j = 1; j < GIANT_STEP / 2; j += 2) {
    if (BABY_STEPS[xs.length] === j) {
      xs.push(domain.copyOf(current.x));
      zs.push(domain.copyOf(current.z));
    }
    curve.add(current, twice, previous, spare);
    [previous, current, spare] = [current, spare, previous];
  }
  return { xs, zs };
}

function copyPoint(p: Point): Point {
  return { x: Float64Array.from(p.x), z: Float64Array.from(p.z) };
}
