/** Detection of perfect powers n = m^k, which rho and ECM handle badly (every curve sees the same prime). */
import { bitLength, integerRoot } from './bigint-math.js';
import { primesBelow } from './small-primes.js';

export interface PerfectPower {
  base: bigint;
  exponent: number;
}

/**
 * n = base^exponent with the smallest prime exponent, or undefined when n is not a perfect power.
 * `smallestBase` (≥ 2) bounds the exponents worth trying: base^k ≥ smallestBase^k. Trying prime
 * exponents suffices, since m^(ab) = (m^a)^b; the base may itself be a power.
 */
export function perfectPower(n: bigint, smallestBase = 2): PerfectPower | undefined {
  if (n < 4n) return undefined;
  const maxExponent = Math.floor(bitLength(n) / Math.log2(smallestBase));
  for (const k of primesBelow(maxExponent + 1)) {
    const root = integerRoot(n, k);
    if (root ** BigInt(k) === n) return { base: root, exponent: k };
  }
  return undefined;
}
