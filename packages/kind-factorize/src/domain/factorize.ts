/**
 * The orchestrator: trial division, then each composite cofactor is split recursively (perfect
 * power → Pollard–Brent rho with a step budget → ECM with growing B1) until only primes are left.
 */
import { bitLength } from './bigint-math.js';
import { ecmFindFactor } from './ecm.js';
import { perfectPower } from './perfect-power.js';
import { pollardBrent } from './pollard-brent.js';
import { isProbablePrime } from './primality.js';
import { seededRandom, type Random } from './prng.js';
import { TRIAL_DIVISION_BOUND, trialDivide } from './small-primes.js';
import { WorkMonitor, type FactorizeOptions } from './work-monitor.js';

/** After trial division, a cofactor below the bound squared has no room for two prime factors. */
const PRIME_BELOW = BigInt(TRIAL_DIVISION_BOUND) ** 2n;
/**
 * Up to 64 bits the smallest factor is below 2^32, which rho finds in about 2^16 steps: there rho
 * gets practically unlimited attempts (ECM stays the fallback).
 */
const RHO_FIRST_BITS = 64;
const RHO_ATTEMPTS_UP_TO_64_BITS = 4;
const RHO_STEPS_UP_TO_64_BITS = 2 ** 22;
/**
 * Above 64 bits rho gets one short run, which finds factors up to about 9 digits; beyond that the
 * first ECM curves (B1 = 2000) are cheaper than more rho steps.
 */
const RHO_STEPS_BEFORE_ECM = 2 ** 15;
/** Fixed seed: the same input always takes the same curves, so results and timings are reproducible. */
const ECM_SEED = 0x5eed_ec;

/** The prime factors of n ≥ 1 in ascending order, with multiplicity (1 → []). */
export function factorize(n: bigint, options: FactorizeOptions = {}): bigint[] {
  if (n < 1n) throw new RangeError(`factorize expects a positive integer, got ${n}`);
  const monitor = new WorkMonitor(options, bitLength(n));
  monitor.setStage('trial division', 0);
  const { factors, cofactor } = trialDivide(n);
  for (const factor of factors) monitor.resolve(bitLength(factor));
  const search = new FactorSearch(monitor);
  return [...factors, ...search.primeFactors(cofactor)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

class FactorSearch {
  private readonly random: Random = seededRandom(ECM_SEED);

  constructor(private readonly monitor: WorkMonitor) {}

  /** Prime factors, with multiplicity, of m ≥ 1 that has no prime factor below TRIAL_DIVISION_BOUND. */
  primeFactors(m: bigint): bigint[] {
    if (m === 1n) return [];
    if (m < PRIME_BELOW || isProbablePrime(m)) {
      this.monitor.resolve(bitLength(m));
      return [m];
    }
    const power = perfectPower(m, TRIAL_DIVISION_BOUND);
    if (power !== undefined) {
      const baseFactors = this.primeFactors(power.base);
      this.monitor.resolve((power.exponent - 1) * bitLength(power.base));
      return Array.from({ length: power.exponent }, () => baseFactors).flat();
    }
    const factor = this.findFactor(m);
    return [...this.primeFactors(factor), ...this.primeFactors(m / factor)];
  }

  /** A proper factor of m: composite, odd, not a perfect power. */
  private findFactor(m: bigint): bigint {
    const bits = bitLength(m);
    this.monitor.startComposite(bits);
    const attempts = bits <= RHO_FIRST_BITS ? RHO_ATTEMPTS_UP_TO_64_BITS : 1;
    const maxSteps = bits <= RHO_FIRST_BITS ? RHO_STEPS_UP_TO_64_BITS : RHO_STEPS_BEFORE_ECM;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const factor = pollardBrent(m, { increment: BigInt(attempt), maxSteps, monitor: this.monitor });
      if (factor !== undefined) return factor;
    }
    return ecmFindFactor(m, this.monitor, this.random);
  }
}
