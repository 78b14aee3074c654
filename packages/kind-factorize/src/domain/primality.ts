/**
 * Primality: deterministic Miller–Rabin below 2^64, Baillie–PSW above (a strong base-2 test and a
 * strong Lucas test with Selfridge's parameters; no counterexample is known).
 */
import { integerRoot, jacobi, mod, modPow } from './bigint-math.js';
import { primesBelow } from './small-primes.js';

/** Trial division by the primes below this bound decides every n below its square outright. */
const SMALL_PRIME_BOUND = 1_000;
const SMALL_PRIMES = Array.from(primesBelow(SMALL_PRIME_BOUND), BigInt);
const TWO_TO_THE_64 = 1n << 64n;
/** Jim Sinclair's bases: together they make Miller–Rabin exact for every n < 2^64. */
const MILLER_RABIN_BASES_BELOW_2_64 = [2n, 325n, 9375n, 28178n, 450775n, 9780504n, 1795265022n];

export function isProbablePrime(n: bigint): boolean {
  if (n < 2n) return false;
  for (const p of SMALL_PRIMES) {
    if (n % p === 0n) return n === p;
    if (p * p > n) return true;
  }
  if (n < TWO_TO_THE_64) return MILLER_RABIN_BASES_BELOW_2_64.every((base) => isStrongProbablePrime(n, base));
  return isStrongProbablePrime(n, 2n) && isStrongLucasProbablePrime(n);
}

/** Miller–Rabin for one base: n − 1 = d·2^s, then a^d ≡ 1 or a^(d·2^r) ≡ −1 (mod n) for some r < s. */
export function isStrongProbablePrime(n: bigint, base: bigint): boolean {
  const a = mod(base, n);
  if (a === 0n) return true; // the base says nothing about n
  let d = n - 1n;
  let s = 0;
  while ((d & 1n) === 0n) {
    d >>= 1n;
    s++;
  }
  let x = modPow(a, d, n);
  if (x === 1n || x === n - 1n) return true;
  for (let r = 1; r < s; r++) {
    x = (x * x) % n;
    if (x === n - 1n) return true;
    if (x === 1n) return false;
  }
  return false;
}

/**
 * Strong Lucas probable-prime test for odd n > 1 with Selfridge's method A: D is the first of 5, −7,
 * 9, −11, … with (D/n) = −1, P = 1, Q = (1 − D)/4. With n + 1 = d·2^s, n passes when U_d ≡ 0 or
 * V_(d·2^r) ≡ 0 (mod n) for some r < s.
 */
export function isStrongLucasProbablePrime(n: bigint): boolean {
  const d = selfridgeD(n);
  if (d === undefined) return false;
  const p = 1n;
  const q = (1n - d) / 4n;
  let k = n + 1n;
  let s = 0;
  while ((k & 1n) === 0n) {
    k >>= 1n;
    s++;
  }
  const half = (x: bigint): bigint => {
    const r = mod(x, n);
    return ((r & 1n) === 0n ? r : r + n) / 2n; // x/2 mod n, n being odd
  };
  // Binary method over the bits of k, from U_1 = 1, V_1 = P, Q^1.
  let u = 1n;
  let v = p;
  let qk = mod(q, n);
  for (const bit of k.toString(2).slice(1)) {
    u = (u * v) % n; // U_2m = U_m·V_m
    v = mod(v * v - 2n * qk, n); // V_2m = V_m² − 2Q^m
    qk = (qk * qk) % n;
    if (bit === '1') {
      [u, v] = [half(p * u + v), half(d * u + p * v)]; // U_(m+1), V_(m+1)
      qk = mod(qk * q, n);
    }
  }
  if (u === 0n || v === 0n) return true;
  for (let r = 1; r < s; r++) {
    v = mod(v * v - 2n * qk, n);
    qk = (qk * qk) % n;
    if (v === 0n) return true;
  }
  return false;
}

/**
 * Selfridge's D, or undefined when n is certainly composite (a square, for which (D/n) is never −1,
 * or n sharing a factor with some D).
 */
function selfridgeD(n: bigint): bigint | undefined {
  const root = integerRoot(n, 2);
  if (root * root === n) return undefined;
  for (let d = 5n; ; d = d > 0n ? -(d + 2n) : -d + 2n) {
    const symbol = jacobi(d, n);
    if (symbol === -1) return d;
    if (symbol === 0 && (d < 0n ? -d : d) !== n) return undefined;
  }
}
