import { bitLength, gcd, integerRoot, jacobi, modInverse, modPow } from './bigint-math.js';
import { perfectPower } from './perfect-power.js';
import { seededRandom } from './prng.js';
import { primesBelow, sievePrimalityInRange, TRIAL_DIVISION_BOUND, trialDivide } from './small-primes.js';
import { signedLeb128, unsignedLeb128 } from './wasm-encoding.js';

describe('bigint-math', () => {
  it('computes gcd, powers, inverses, roots and bit lengths', () => {
    expect(gcd(462n, 1071n)).toBe(21n);
    expect(gcd(0n, 5n)).toBe(5n);
    expect(modPow(3n, 200n, 1000007n)).toBe(3n ** 200n % 1000007n);
    expect(modInverse(3n, 11n)).toBe(4n);
    expect(modInverse(6n, 9n)).toBeUndefined();
    expect(integerRoot(10n ** 30n, 3)).toBe(10n ** 10n);
    expect(integerRoot(10n ** 30n - 1n, 3)).toBe(10n ** 10n - 1n);
    expect(integerRoot(2n ** 64n, 64)).toBe(2n);
    expect(bitLength(0n)).toBe(0);
    expect(bitLength(255n)).toBe(8);
  });

  it('computes Jacobi symbols', () => {
    expect(jacobi(2n, 7n)).toBe(1);
    expect(jacobi(3n, 7n)).toBe(-1);
    expect(jacobi(-7n, 5459n)).toBe(jacobi(5459n - 7n, 5459n));
    expect(jacobi(21n, 7n)).toBe(0);
  });
});

describe('perfectPower', () => {
  it('finds the smallest prime exponent', () => {
    expect(perfectPower(1000003n ** 6n)).toEqual({ base: 1000003n ** 3n, exponent: 2 });
    expect(perfectPower(1000003n ** 5n)).toEqual({ base: 1000003n, exponent: 5 });
    expect(perfectPower(2n ** 89n - 1n)).toBeUndefined();
    expect(perfectPower(1000003n ** 2n + 1n)).toBeUndefined();
  });
});

describe('small primes', () => {
  it('sieves', () => {
    expect(Array.from(primesBelow(30))).toEqual([2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
    expect(primesBelow(10_000)).toHaveLength(1229);
    const segment = sievePrimalityInRange(1_000_000, 100);
    expect(Array.from(segment).flatMap((isPrime, i) => (isPrime ? [1_000_000 + i] : []))).toEqual([
      1000003, 1000033, 1000037, 1000039, 1000081, 1000099,
    ]);
  });

  it('trial-divides by the primes below the bound, and only those', () => {
    expect(trialDivide(2n ** 10n * 4093n * 4099n)).toEqual({
      factors: [...Array<bigint>(10).fill(2n), 4093n],
      cofactor: 4099n,
    });
    expect(TRIAL_DIVISION_BOUND).toBe(4096);
  });
});

describe('seededRandom', () => {
  it('is deterministic and 32-bit', () => {
    const [a, b] = [seededRandom(5), seededRandom(5)];
    const values = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(values);
    expect(values.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)).toBe(true);
  });
});

describe('LEB128', () => {
  it('encodes as the WebAssembly specification says', () => {
    expect(unsignedLeb128(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(signedLeb128(-123456n)).toEqual([0xc0, 0xbb, 0x78]);
    expect(signedLeb128(0xffffffffn)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(signedLeb128(63n)).toEqual([0x3f]);
    expect(signedLeb128(64n)).toEqual([0xc0, 0x00]);
  });
});
