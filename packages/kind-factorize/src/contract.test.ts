import { parseFactorizeInput, type NumberRule } from './contract.js';

const MAX_DIGITS = 100;

describe('parseFactorizeInput', () => {
  it.each([
    ['12345', 12345n, 5],
    ['007', 7n, 1],
    [' 42 ', 42n, 2],
    ['9'.repeat(100), 10n ** 100n - 1n, 100],
  ])('accepts the string %j', (raw, value, digits) => {
    expect(parseFactorizeInput(raw, MAX_DIGITS)).toEqual({ ok: true, value, digits });
  });

  it('accepts a JSON number that is a safe integer', () => {
    expect(parseFactorizeInput(600851475143, MAX_DIGITS)).toEqual({
      ok: true,
      value: 600851475143n,
      digits: 12,
    });
    expect(parseFactorizeInput(Number.MAX_SAFE_INTEGER, MAX_DIGITS)).toEqual({
      ok: true,
      value: BigInt(Number.MAX_SAFE_INTEGER),
      digits: 16,
    });
  });

  it.each<[unknown, NumberRule, string]>([
    ['1.5', 'fraction', 'without a decimal point (got "1.5")'],
    ['1e5', 'exponent', 'without an exponent (got "1e5")'],
    ['-3', 'negative', 'not negative (got "-3")'],
    ['0', 'zero', '0 has no prime factorization'],
    ['000', 'zero', '0 has no prime factorization'],
    ['12a', 'non_digit', 'only the digits 0-9 (got "12a")'],
    ['+5', 'non_digit', 'only the digits 0-9 (got "+5")'],
    ['', 'empty', 'must not be empty'],
    ['   ', 'empty', 'must not be empty'],
    [undefined, 'empty', 'a number is required'],
    [null, 'empty', 'a number is required'],
    ['1'.repeat(101), 'too_many_digits', 'at most 100 digits, it has 101'],
    [1.5, 'fraction', 'without a fractional part (got "1.5")'],
    [-2, 'negative', 'not negative (got "-2")'],
    [0, 'zero', '0 has no prime factorization'],
    [2 ** 60, 'unsafe_integer', 'send it as a string of digits'],
    [Number.POSITIVE_INFINITY, 'not_an_integer', 'finite positive integer'],
    [true, 'not_an_integer', 'got a value of type boolean'],
    [{ n: 5 }, 'not_an_integer', 'got a value of type object'],
  ])('refuses %j with rule %s', (raw, rule, messagePart) => {
    const parsed = parseFactorizeInput(raw, MAX_DIGITS);
    expect(parsed).toMatchObject({ ok: false, rule });
    if (!parsed.ok) expect(parsed.message).toContain(messagePart);
  });

  it('counts significant digits against the limit', () => {
    expect(parseFactorizeInput(`000${'1'.repeat(100)}`, MAX_DIGITS)).toMatchObject({ ok: true, digits: 100 });
    expect(parseFactorizeInput(12345, 4)).toMatchObject({ ok: false, rule: 'too_many_digits' });
  });

  it('cuts long inputs echoed in messages', () => {
    const parsed = parseFactorizeInput(`${'1'.repeat(200)}x`, MAX_DIGITS);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message.length).toBeLessThan(120);
  });
});

describe('a number far over the digit limit', () => {
  it('is refused by counting its digits, before any conversion (under 10 ms for a million digits)', () => {
    const million = '7'.repeat(1_000_000);
    const durations: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const started = performance.now();
      const parsed = parseFactorizeInput(million, 100);
      durations.push(performance.now() - started);
      expect(parsed).toEqual({
        ok: false,
        rule: 'too_many_digits',
        message: 'number must have at most 100 digits, it has 1000000',
      });
    }
    // The fastest of five, so a busy machine does not decide; BigInt() of these digits took ~110 ms.
    expect(Math.min(...durations)).toBeLessThan(10);
  });
});
