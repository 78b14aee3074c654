/**
 * x-only arithmetic on a Montgomery curve B·y² = x³ + A·x² + x in projective (X : Z) coordinates,
 * over a MontgomeryDomain. Only a24 = (A + 2)/4 is needed. All scratch space is allocated once.
 */
import { gcd, modInverse } from './bigint-math.js';
import type { MontgomeryDomain, Residue } from './montgomery.js';

export interface Point {
  x: Residue;
  z: Residue;
}

/** Ladder steps between two checkpoints: a few hundred microseconds of work. */
const LADDER_STEPS_PER_CHECKPOINT = 256;

export class MontgomeryCurve {
  private readonly sum: Residue;
  private readonly difference: Residue;
  private readonly u: Residue;
  private readonly v: Residue;

  constructor(
    readonly domain: MontgomeryDomain,
    private readonly a24: Residue,
  ) {
    this.sum = domain.create();
    this.difference = domain.create();
    this.u = domain.create();
    this.v = domain.create();
  }

  newPoint(): Point {
    return { x: this.domain.create(), z: this.domain.create() };
  }

  /** out = 2p: X = (X+Z)²(X−Z)², Z = 4XZ·((X−Z)² + a24·4XZ), with 4XZ = (X+Z)² − (X−Z)². */
  double(p: Point, out: Point): void {
    const { domain, sum, difference } = this;
    domain.add(p.x, p.z, sum);
    domain.sub(p.x, p.z, difference);
    domain.sqr(sum, sum);
    domain.sqr(difference, difference);
    domain.mul(sum, difference, out.x);
    domain.sub(sum, difference, sum); // 4XZ
    domain.mul(sum, this.a24, out.z);
    domain.add(out.z, difference, out.z);
    domain.mul(out.z, sum, out.z);
  }

  /** out = p + q, given their difference p − q (differential addition; out may alias p or q). */
  add(p: Point, q: Point, pMinusQ: Point, out: Point): void {
    this.crossProducts(p, q);
    const { domain, u, v } = this;
    domain.add(u, v, out.x);
    domain.sub(u, v, out.z);
    domain.sqr(out.x, out.x);
    domain.sqr(out.z, out.z);
    domain.mul(out.x, pMinusQ.z, out.x);
    domain.mul(out.z, pMinusQ.x, out.z);
  }

  /** add() for a difference with Z = 1, given by its x alone: one multiplication fewer. */
  addWithAffineDifference(p: Point, q: Point, differenceX: Residue, out: Point): void {
    this.crossProducts(p, q);
    const { domain, u, v } = this;
    domain.add(u, v, out.x);
    domain.sub(u, v, out.z);
    domain.sqr(out.x, out.x);
    domain.sqr(out.z, out.z);
    domain.mul(out.z, differenceX, out.z);
  }

  /**
   * Montgomery ladder: r0 = k·(baseX : 1) and r1 = (k + 1)·(baseX : 1), with k ≥ 1 given as a binary
   * string (most significant bit first). Invariant: r1 − r0 = base, so every addition has the affine
   * base as its difference.
   */
  ladder(baseX: Residue, k: string, r0: Point, r1: Point, checkpoint: () => void): void {
    r0.x.set(baseX);
    r0.z.set(this.domain.one);
    this.double(r0, r1);
    for (let i = 1; i < k.length; i++) {
      if (k.charCodeAt(i) === 49 /* '1' */) {
        this.addWithAffineDifference(r0, r1, baseX, r0);
        this.double(r1, r1);
      } else {
        this.addWithAffineDifference(r0, r1, baseX, r1);
        this.double(r0, r0);
      }
      if (i % LADDER_STEPS_PER_CHECKPOINT === 0) checkpoint();
    }
  }

  /** u = (X_p − Z_p)(X_q + Z_q), v = (X_p + Z_p)(X_q − Z_q). */
  private crossProducts(p: Point, q: Point): void {
    const { domain, sum, difference, u, v } = this;
    domain.sub(p.x, p.z, difference);
    domain.add(q.x, q.z, sum);
    domain.mul(difference, sum, u);
    domain.add(p.x, p.z, sum);
    domain.sub(q.x, q.z, difference);
    domain.mul(sum, difference, v);
  }
}

/**
 * Affine x = X/Z for `count` points at once (Montgomery's trick: one modular inversion and three
 * multiplications per point). The x are overwritten, the z are left as they were.
 *
 * Returns undefined on success. When some Z is not invertible modulo n, returns gcd(ΠZ, n) instead:
 * a proper factor of n, or n itself when the points vanish modulo every factor.
 */
export function toAffineBatch(
  domain: MontgomeryDomain,
  xs: Residue[],
  zs: Residue[],
  count: number,
  prefix: Residue[],
): bigint | undefined {
  prefix[0]!.set(zs[0]!);
  for (let i = 1; i < count; i++) domain.mul(prefix[i - 1]!, zs[i]!, prefix[i]!);
  const product = domain.toBigInt(prefix[count - 1]!);
  const inverse = modInverse(product, domain.modulus);
  if (inverse === undefined) return gcd(product, domain.modulus);
  // Walk back: `remaining` is the inverse of z_0·…·z_i.
  const remaining = domain.fromBigInt(inverse);
  const zInverse = domain.create();
  for (let i = count - 1; i > 0; i--) {
    domain.mul(remaining, prefix[i - 1]!, zInverse);
    domain.mul(remaining, zs[i]!, remaining);
    domain.mul(xs[i]!, zInverse, xs[i]!);
  }
  domain.mul(xs[0]!, remaining, xs[0]!);
  return undefined;
}
