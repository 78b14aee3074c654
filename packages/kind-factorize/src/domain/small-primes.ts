/** Small primes: a sieve, a segmented sieve for ECM stage 2, and trial division. */

/**
 * Trial division removes every prime below this bound (564 primes): afterwards any cofactor below
 * 2^24 is prime. Larger small factors are left to rho, which finds a factor p in about √p steps of a
 * few tens of nanoseconds: a larger bound would cost more than it saves.
 */
export const TRIAL_DIVISION_BOUND = 4_096;

let sievedLimit = 0;
let sievedPrimes: Uint32Array = new Uint32Array(0);

/** The primes below `limit`, in ascending order (sieve of Eratosthenes, cached up to the largest limit asked). */
export function primesBelow(limit: number): Uint32Array {
  if (limit > sievedLimit) {
    sievedPrimes = sieve(limit);
    sievedLimit = limit;
  }
  // Binary search for the number of cached primes below `limit`.
  let [low, high] = [0, sievedPrimes.length];
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sievedPrimes[middle]! < limit) low = middle + 1;
    else high = middle;
  }
  return sievedPrimes.subarray(0, low);
}

function sieve(limit: number): Uint32Array {
  const composite = new Uint8Array(limit);
  const primes: number[] = [];
  for (let i = 2; i < limit; i++) {
    if (composite[i] === 1) continue;
    primes.push(i);
    for (let multiple = i * i; multiple < limit; multiple += i) composite[multiple] = 1;
  }
  return Uint32Array.from(primes);
}

/**
 * Primality of every integer in [low, low + length), as 1 (prime) or 0, for low ≥ 2. Numbers up to
 * 2^53 are fine: sieving primes are taken up to the square root of the top of the range.
 */
export function sievePrimalityInRange(low: number, length: number): Uint8Array {
  const isPrime = new Uint8Array(length).fill(1);
  const high = low + length;
  for (const p of primesBelow(Math.floor(Math.sqrt(high)) + 1)) {
    const firstMultiple = Math.max(p * p, Math.ceil(low / p) * p);
    for (let m = firstMultiple; m < high; m += p) isPrime[m - low] = 0;
  }
  return isPrime;
}

/**
 * Products of consecutive trial primes that stay below 2^53: one BigInt remainder by the product,
 * then cheap Number remainders by each prime, replace a BigInt remainder per prime.
 */
interface PrimeGroup {
  product: bigint;
  primes: number[];
}

let trialGroups: PrimeGroup[] | undefined;

function trialPrimeGroups(): PrimeGroup[] {
  if (trialGroups === undefined) {
    trialGroups = [];
    let group: number[] = [];
    let product = 1;
    for (const p of primesBelow(TRIAL_DIVISION_BOUND)) {
      if (product * p > Number.MAX_SAFE_INTEGER) {
        trialGroups.push({ product: BigInt(product), primes: group });
        group = [];
        product = 1;
      }
      group.push(p);
      product *= p;
    }
    trialGroups.push({ product: BigInt(product), primes: group });
  }
  return trialGroups;
}

export interface TrialDivision {
  /** The primes found, ascending, with multiplicity. */
  factors: bigint[];
  /** What is left: 1, or a number without prime factors below TRIAL_DIVISION_BOUND. */
  cofactor: bigint;
}

export function trialDivide(n: bigint): TrialDivision {
  const factors: bigint[] = [];
  let cofactor = n;
  for (const { product, primes } of trialPrimeGroups()) {
    if (cofactor === 1n) break;
    const remainder = Number(cofactor % product);
    for (const p of primes) {
      if (remainder % p !== 0) continue;
      const prime = BigInt(p);
      while (cofactor % prime === 0n) {
        factors.push(prime);
        cofactor /= prime;
      }
    }
  }
  return { factors, cofactor };
}
