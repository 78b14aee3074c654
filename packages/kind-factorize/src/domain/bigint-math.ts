/** Number-theoretic helpers on BigInt, outside the hot loops (those use montgomery.ts). */

export function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** The representative of x modulo m in [0, m). */
export function mod(x: bigint, m: bigint): bigint {
  const r = x % m;
  return r < 0n ? r + m : r;
}

export function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n % modulus;
  let b = mod(base, modulus);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if ((e & 1n) === 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

/** a⁻¹ mod m, or undefined when gcd(a, m) ≠ 1 (the caller then takes the gcd: it may be a factor). */
export function modInverse(a: bigint, m: bigint): bigint | undefined {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return r0 === 1n ? mod(s0, m) : undefined;
}

/** ⌊n^(1/k)⌋ for n ≥ 0, k ≥ 1, by Newton's iteration from above (it decreases until it settles). */
export function integerRoot(n: bigint, k: number): bigint {
  if (n < 2n || k === 1) return n;
  const kk = BigInt(k);
  let x = 1n << BigInt(Math.ceil(bitLength(n) / k)); // ≥ the root
  for (;;) {
    const next = ((kk - 1n) * x + n / x ** (kk - 1n)) / kk;
    if (next >= x) return x;
    x = next;
  }
}

/** The Jacobi symbol (a/n) for odd n > 0. */
export function jacobi(a: bigint, n: bigint): number {
  let x = mod(a, n);
  let y = n;
  let sign = 1;
  while (x !== 0n) {
    while ((x & 1n) === 0n) {
      x >>= 1n;
      const r = y & 7n;
      if (r === 3n || r === 5n) sign = -sign;
    }
    [x, y] = [y, x];
    if ((x & 3n) === 3n && (y & 3n) === 3n) sign = -sign;
    x %= y;
  }
  return y === 1n ? sign : 0;
}
