import { factorize, FactorizationAborted, isProbablePrime, type FactorizeProgress } from './index.js';
import { seededRandom } from './prng.js';

const product = (factors: bigint[]): bigint => factors.reduce((a, b) => a * b, 1n);

function expectFactorization(n: bigint, expected: bigint[]): void {
  expect(factorize(n)).toEqual(expected);
}

describe('factorize', () => {
  it('returns [] for 1 and refuses 0 and negative numbers', () => {
    expect(factorize(1n)).toEqual([]);
    expect(() => factorize(0n)).toThrow(RangeError);
    expect(() => factorize(-6n)).toThrow(RangeError);
  });

  it.each([2n, 3n, 4093n, 65537n, 2n ** 31n - 1n, 2n ** 61n - 1n, 2n ** 64n - 59n, 2n ** 127n - 1n])(
    'returns the prime %s itself',
    (p) => {
      expectFactorization(p, [p]);
    },
  );

  it.each([
    [561n, [3n, 11n, 17n]],
    [41041n, [7n, 11n, 13n, 41n]],
    [825265n, [5n, 7n, 17n, 19n, 73n]],
    [321197185n, [5n, 19n, 23n, 29n, 37n, 137n]],
    [5394826801n, [7n, 13n, 17n, 23n, 31n, 67n, 73n]],
    [232250619601n, [7n, 11n, 13n, 17n, 31n, 37n, 73n, 163n]],
    [9746347772161n, [7n, 11n, 13n, 17n, 19n, 31n, 37n, 41n, 641n]],
  ])('factors the Carmichael number %s', (n, expected) => {
    expectFactorization(n, expected);
  });

  it('factors prime powers', () => {
    expectFactorization(3n ** 40n, Array<bigint>(40).fill(3n));
    expectFactorization(2n ** 100n, Array<bigint>(100).fill(2n));
    expectFactorization(1000003n ** 5n, Array<bigint>(5).fill(1000003n));
    expectFactorization((2n ** 61n - 1n) ** 3n, Array<bigint>(3).fill(2n ** 61n - 1n));
    expectFactorization(4294967291n ** 2n * 1000003n ** 6n, [
      ...Array<bigint>(6).fill(1000003n),
      4294967291n,
      4294967291n,
    ]);
  });

  it('factors 64-bit semiprimes', () => {
    expectFactorization(4294967291n * 4294967279n, [4294967279n, 4294967291n]);
    expectFactorization(3157459363n * 3385473037n, [3157459363n, 3385473037n]);
    expectFactorization(1000000007n * 4294967231n, [1000000007n, 4294967231n]);
  });

  it('factors numbers with a 15-digit factor', () => {
    expectFactorization(314159265359057n * (2n ** 61n - 1n), [314159265359057n, 2n ** 61n - 1n]);
    expectFactorization(2n * 3n * 5n * 314159265359057n * 1000003n, [2n, 3n, 5n, 1000003n, 314159265359057n]);
  });

  it('factors the product of two 15-digit primes', () => {
    expectFactorization(271828182845909n * 314159265359057n, [271828182845909n, 314159265359057n]);
  });

  it('factors a 100-digit number made mostly of small factors', () => {
    const factors = [
      2n,
      2n,
      3n,
      7n,
      7n,
      11n,
      101n,
      4099n,
      65537n,
      1000003n,
      2147483647n,
      4294967291n,
      1000000000039n,
    ];
    const smallPart = product(factors);
    // Complete it to 100 digits with a prime cofactor.
    let cofactor = 10n ** 99n / smallPart + 1n;
    while (!isProbablePrime(cofactor)) cofactor++;
    const n = smallPart * cofactor;
    expect(n.toString()).toHaveLength(100);
    expectFactorization(
      n,
      [...factors, cofactor].sort((a, b) => (a < b ? -1 : 1)),
    );
  });

  it('factors random products of known primes', () => {
    const random = seededRandom(42);
    const pick = (primes: bigint[]): bigint => primes[random() % primes.length]!;
    // Up to 13 digits, so that products stay quick to factor; at most one large prime joins them.
    const small = [3n, 5n, 4099n, 65537n, 1000003n, 998244353n, 4294967291n, 1000000000039n];
    const large = [2305843009213693951n, 18446744073709551557n, 2n ** 89n - 1n, 2n ** 127n - 1n];
    for (let trial = 0; trial < 12; trial++) {
      const chosen = Array.from({ length: 1 + (random() % 3) }, () => pick(small));
      if (random() % 2 === 0) chosen.push(pick(large));
      const n = product(chosen);
      const factors = factorize(n);
      expect(product(factors)).toBe(n);
      expect(factors.every(isProbablePrime)).toBe(true);
      expect(factors).toEqual([...chosen].sort((a, b) => (a < b ? -1 : 1)));
    }
  });

  it('throws FactorizationAborted when shouldStop says so', () => {
    const n = 271828182845909n * 314159265359057n;
    expect(() => factorize(n, { shouldStop: () => true })).toThrow(FactorizationAborted);
    let polls = 0;
    expect(() => factorize(n, { shouldStop: () => ++polls > 3 })).toThrow(FactorizationAborted);
    expect(polls).toBe(4);
  });

  it('reports progress, throttled, with fractions in [0, 1]', () => {
    const reports: FactorizeProgress[] = [];
    factorize(271828182845909n * 314159265359057n, { onProgress: (p) => reports.push(p) });
    expect(reports.length).toBeGreaterThan(0);
    expect(reports[0]!.message).toBe('trial division');
    for (const report of reports) {
      expect(report.fraction).toBeGreaterThanOrEqual(0);
      expect(report.fraction).toBeLessThanOrEqual(1);
    }
  });
});
