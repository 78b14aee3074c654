import { mod, modInverse } from './bigint-math.js';
import { MAX_MONTGOMERY_BITS, MontgomeryDomain } from './montgomery.js';
import { seededRandom } from './prng.js';

const random = seededRandom(7);

function randomBelow(limit: bigint): bigint {
  let value = 0n;
  for (let bits = 0; bits < limit.toString(2).length + 32; bits += 32)
    value = (value << 32n) | BigInt(random());
  return value % limit;
}

function oddModulus(bits: number): bigint {
  return (1n << BigInt(bits - 1)) | randomBelow(1n << BigInt(bits - 1)) | 1n;
}

describe('MontgomeryDomain', () => {
  it.each([5, 24, 53, 63, 64, 100, 133, 200, 333, MAX_MONTGOMERY_BITS])(
    'agrees with BigInt arithmetic for a %i-bit modulus',
    (bits) => {
      const n = oddModulus(bits);
      const domain = new MontgomeryDomain(n);
      const rInverse = modInverse(1n << BigInt(24 * domain.limbCount), n)!;
      for (let trial = 0; trial < 50; trial++) {
        const [a, b] = [randomBelow(n), randomBelow(n)];
        const [ra, rb] = [domain.fromBigInt(a), domain.fromBigInt(b)];
        expect(domain.toBigInt(ra)).toBe(a);
        const out = domain.create();
        domain.mul(ra, rb, out);
        expect(domain.toBigInt(out)).toBe((a * b) % n);
        domain.sqr(ra, out);
        expect(domain.toBigInt(out)).toBe((a * a) % n);
        domain.add(ra, rb, out);
        expect(domain.toBigInt(out)).toBe((a + b) % n);
        domain.sub(ra, rb, out);
        expect(domain.toBigInt(out)).toBe(mod(a - b, n));
        // rawValue is the Montgomery representation a·R, up to a multiple of n.
        expect(mod(domain.rawValue(ra) * rInverse, n)).toBe(a);
      }
    },
  );

  it('keeps lazily reduced values valid through long chains of operations', () => {
    const n = oddModulus(100);
    const domain = new MontgomeryDomain(n);
    let [x, y] = [randomBelow(n), randomBelow(n)];
    const [rx, ry, t] = [domain.fromBigInt(x), domain.fromBigInt(y), domain.create()];
    for (let i = 0; i < 1000; i++) {
      // (x, y) ← ((x + y)·(x − y), x²): sums and differences of products, multiplied again.
      domain.add(rx, ry, t);
      domain.sub(rx, ry, ry);
      domain.mul(t, ry, ry);
      domain.sqr(rx, rx);
      [x, y] = [(x * x) % n, mod((x + y) * (x - y), n)];
    }
    expect(domain.toBigInt(rx)).toBe(x);
    expect(domain.toBigInt(ry)).toBe(y);
  });

  it('refuses even, tiny or oversized moduli', () => {
    expect(() => new MontgomeryDomain(100n)).toThrow(RangeError);
    expect(() => new MontgomeryDomain(1n)).toThrow(RangeError);
    expect(() => new MontgomeryDomain((1n << BigInt(MAX_MONTGOMERY_BITS)) + 1n)).toThrow(RangeError);
  });
});
