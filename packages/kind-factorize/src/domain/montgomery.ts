/**
 * Montgomery arithmetic modulo an odd n, on fixed-size limbs held in float64 arrays (the unrolled
 * kernels are in montgomery-kernels.ts).
 *
 * Why not BigInt: every BigInt operation allocates, and the hot loops of rho and ECM are nothing
 * but modular multiplications of 64- to 340-bit numbers. Here a residue is a Float64Array of
 * 24-bit limbs, least significant first, and nothing is allocated per operation.
 *
 * Why 24-bit limbs: a limb product is below 2^48, so up to 32 of them can be summed exactly in a
 * double (2^53) without propagating a carry. Product scanning then accumulates every column of
 * a·b and of the reduction m·n without carries, which keeps the dependency chains short; the only
 * sequential part is deriving each reduction digit m_i. A column collects at most 2L products (of
 * a·b and of m·n) plus a carry below 2^29: for L ≤ 15 limbs that stays below 30·2^48 + 2^29 < 2^53.
 * 15 limbs (360 bits) cover 100 decimal digits (333 bits) plus the 4 bits of headroom below.
 *
 * Lazy reduction: R = 2^(24·limbs) is chosen with R ≥ 16n. Then mul(a, b) for any a·b < 16n² returns
 * a value below 2n without a final conditional subtraction. Every residue this class returns is
 * below 2n, so sums and "a − b + 2n" differences of two of them are below 4n, and any product of two
 * such values is a valid input to mul again. Values are only brought into [0, n) when leaving the
 * domain (toBigInt). Limbs are always normalised to [0, 2^24).
 */

import { LIMB_BITS, montgomeryKernels, type MontgomeryKernels } from './montgomery-kernels.js';

export type Residue = Float64Array;

const LIMB_MASK = 2 ** LIMB_BITS - 1;
/** R ≥ 16n: the lazy-reduction headroom described above. */
const HEADROOM_BITS = 4;
/** 2·limbs products of < 2^48 each must stay below 2^53 in a column. */
const MAX_MONTGOMERY_LIMBS = 15;
export const MAX_MONTGOMERY_BITS = MAX_MONTGOMERY_LIMBS * LIMB_BITS - HEADROOM_BITS;

export class MontgomeryDomain {
  readonly modulus: bigint;
  readonly limbCount: number;
  /** The Montgomery form of 1, i.e. R mod n. */
  readonly one: Residue;
  /** The limbs of n, 2n and −n⁻¹ mod 2^24, for kernels that fuse several operations. */
  readonly modulusLimbs: Float64Array;
  readonly twiceModulusLimbs: Float64Array;
  readonly negativeInverse: number;
  private readonly kernels: MontgomeryKernels;
  private readonly rBits: bigint;

  constructor(modulus: bigint) {
    if (modulus < 3n || (modulus & 1n) === 0n)
      throw new RangeError('Montgomery modulus must be odd and at least 3');
    const bits = modulus.toString(2).length;
    if (bits > MAX_MONTGOMERY_BITS)
      throw new RangeError(`Montgomery modulus must have at most ${MAX_MONTGOMERY_BITS} bits`);
    this.modulus = modulus;
    this.limbCount = Math.ceil((bits + HEADROOM_BITS) / LIMB_BITS);
    this.rBits = BigInt(this.limbCount * LIMB_BITS);
    this.modulusLimbs = this.limbsOf(modulus);
    this.twiceModulusLimbs = this.limbsOf(2n * modulus);
    this.negativeInverse = negativeInverseModLimb(Number(modulus & BigInt(LIMB_MASK)));
    this.kernels = montgomeryKernels(this.limbCount);
    this.one = this.fromBigInt(1n);
  }

  create(): Residue {
    return new Float64Array(this.limbCount);
  }

  /** x·R mod n, for any x ≥ 0. */
  fromBigInt(x: bigint): Residue {
    return this.limbsOf((x << this.rBits) % this.modulus);
  }

  /** The canonical value in [0, n) that `a` represents. */
  toBigInt(a: Residue): bigint {
    const plain = this.create();
    const unit = this.create();
    unit[0] = 1;
    this.mul(a, unit, plain);
    return this.rawValue(plain) % this.modulus;
  }

  /**
   * The integer held in the limbs, i.e. a·R mod n up to a multiple of n. Enough for gcd(a, n):
   * R is a power of two and n is odd, so the factor R does not change the gcd.
   */
  rawValue(a: Residue): bigint {
    let value = 0n;
    for (let i = this.limbCount - 1; i >= 0; i--) value = (value << BigInt(LIMB_BITS)) | BigInt(a[i]!);
    return value;
  }

  copyOf(a: Residue): Residue {
    return Float64Array.from(a);
  }

  /** out = a·b/R mod n, below 2n; requires a·b < 16n². `out` may alias `a` or `b`. */
  mul(a: Residue, b: Residue, out: Residue): void {
    this.kernels.mul(a, b, out, this.modulusLimbs, this.negativeInverse);
  }

  /** out = a²/R mod n; same contract as mul. */
  sqr(a: Residue, out: Residue): void {
    this.kernels.sqr(a, out, this.modulusLimbs, this.negativeInverse);
  }

  /** out = a + b (not reduced: below 4n when both inputs are below 2n). */
  add(a: Residue, b: Residue, out: Residue): void {
    this.kernels.add(a, b, out);
  }

  /** out = a − b + 2n, which is positive and below 4n when both inputs are below 2n. */
  sub(a: Residue, b: Residue, out: Residue): void {
    this.kernels.sub(a, b, out, this.twiceModulusLimbs);
  }

  private limbsOf(x: bigint): Float64Array {
    const limbs = new Float64Array(this.limbCount);
    let rest = x;
    for (let i = 0; i < this.limbCount; i++) {
      limbs[i] = Number(rest & BigInt(LIMB_MASK));
      rest >>= BigInt(LIMB_BITS);
    }
    if (rest !== 0n) throw new RangeError('value does not fit the Montgomery limbs');
    return limbs;
  }
}

/** −n⁻¹ mod 2^24 for odd n, by Newton–Hensel lifting (each step doubles the correct low bits). */
function negativeInverseModLimb(nLow: number): number {
  let inverse = nLow; // correct to 3 bits: n·n ≡ 1 (mod 8) for odd n
  for (let i = 0; i < 4; i++) inverse = Math.imul(inverse, 2 - Math.imul(nLow, inverse));
  return -inverse & LIMB_MASK;
}
