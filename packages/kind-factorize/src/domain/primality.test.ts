import { isProbablePrime, isStrongLucasProbablePrime, isStrongProbablePrime } from './primality.js';

function sieve(limit: number): boolean[] {
  const prime = Array<boolean>(limit).fill(true);
  prime[0] = prime[1] = false;
  for (let i = 2; i * i < limit; i++) if (prime[i]) for (let j = i * i; j < limit; j += i) prime[j] = false;
  return prime;
}

describe('isProbablePrime', () => {
  it('agrees with a sieve for every n < 100000', () => {
    const expected = sieve(100_000);
    const mismatches = expected.flatMap((isPrime, n) => (isProbablePrime(BigInt(n)) === isPrime ? [] : [n]));
    expect(mismatches).toEqual([]);
  });

  it('rejects 0, 1 and negative numbers', () => {
    expect([0n, 1n, -7n].map(isProbablePrime)).toEqual([false, false, false]);
  });

  it.each([
    ['2^31 − 1', 2n ** 31n - 1n],
    ['2^61 − 1', 2n ** 61n - 1n],
    ['2^64 − 59, the largest prime below 2^64', 2n ** 64n - 59n],
    ['2^89 − 1', 2n ** 89n - 1n],
    ['2^127 − 1', 2n ** 127n - 1n],
    ['2^521 − 1 (157 digits)', 2n ** 521n - 1n],
    ['the 15-digit prime 314159265359057', 314159265359057n],
  ])('accepts the prime %s', (_name, p) => {
    expect(isProbablePrime(p)).toBe(true);
  });

  it.each([561n, 41041n, 825265n, 321197185n, 5394826801n, 232250619601n, 9746347772161n])(
    'rejects the Carmichael number %s',
    (n) => {
      expect(isProbablePrime(n)).toBe(false);
    },
  );

  it.each([2047n, 3277n, 4033n, 4681n, 8321n, 3215031751n, 3825123056546413051n])(
    'rejects %s, a strong pseudoprime to base 2',
    (n) => {
      expect(isStrongProbablePrime(n, 2n)).toBe(true);
      expect(isProbablePrime(n)).toBe(false);
    },
  );

  it.each([5459n, 5777n, 10877n, 16109n, 18971n, 22499n, 24569n, 25199n, 40309n, 58519n, 75077n, 97439n])(
    'rejects %s, a strong Lucas pseudoprime (Selfridge parameters)',
    (n) => {
      expect(isStrongLucasProbablePrime(n)).toBe(true);
      expect(isProbablePrime(n)).toBe(false);
    },
  );

  it('rejects composites above 2^64 that the BPSW path must catch', () => {
    const p = 2n ** 61n - 1n;
    const q = 2n ** 64n - 59n;
    expect(isProbablePrime(p * q)).toBe(false);
    expect(isProbablePrime(q * q)).toBe(false); // a square: the Lucas test has no Selfridge D for it
    expect(isProbablePrime((2n ** 89n - 1n) * 3825123056546413051n)).toBe(false);
  });

  it('the strong Lucas test alone accepts primes above 2^64', () => {
    expect(isStrongLucasProbablePrime(2n ** 89n - 1n)).toBe(true);
    expect(isStrongLucasProbablePrime(2n ** 64n - 59n)).toBe(true);
  });
});
