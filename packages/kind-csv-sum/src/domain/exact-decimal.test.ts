import {
  formatScaledDecimal,
  isDecimalRejection,
  MAX_INTEGER_DIGITS,
  MAX_NUMBER_LENGTH,
  parseScaledDecimal,
} from './exact-decimal.js';

const E18 = 10n ** 18n;

function units(text: string): bigint {
  const parsed = parseScaledDecimal(text);
  if (isDecimalRejection(parsed)) throw new Error(`${text} rejected: ${parsed.problem}`);
  return parsed;
}

function rejection(text: string): string | undefined {
  const parsed = parseScaledDecimal(text);
  return isDecimalRejection(parsed) ? parsed.code : undefined;
}

describe('parseScaledDecimal', () => {
  it.each([
    ['0', 0n],
    ['42', 42n * E18],
    ['+42', 42n * E18],
    ['-42', -42n * E18],
    ['-0', 0n],
    ['007', 7n * E18],
    ['-123.456789', -123456789n * 10n ** 12n],
    ['1.', E18],
    ['.5', E18 / 2n],
    ['-.25', -E18 / 4n],
    ['0.000000000000000001', 1n],
    ['-0.999999999999999999', -(E18 - 1n)],
    ['123456789012345678.123456789012345678', 123456789012345678123456789012345678n],
    ['1.5e3', 1500n * E18],
    ['2E-4', 2n * 10n ** 14n],
    ['-2e+2', -200n * E18],
    ['1e-18', 1n],
    ['12300e-20', 123n], // 1.23e-16: the mantissa's trailing zeros absorb the exponent
    ['0.1000000000000000000000', E18 / 10n], // trailing zeros beyond 18 digits do not count
    ['100e-20', 1n],
    ['0e-999', 0n],
    ['0.0e999999', 0n],
    ['  7.5\t', 7n * E18 + E18 / 2n],
    ['', 0n],
    ['   ', 0n],
  ])('%j is %s units', (text, expected) => {
    expect(units(text)).toBe(expected);
  });

  it('keeps huge integers exact', () => {
    const digits = '9'.repeat(300);
    expect(units(digits)).toBe(BigInt(digits) * E18);
    expect(units(`-${digits}.5`)).toBe(-(BigInt(digits) * E18 + E18 / 2n));
    expect(units(`1e${MAX_INTEGER_DIGITS - 1}`)).toBe(10n ** BigInt(MAX_INTEGER_DIGITS - 1) * E18);
  });

  it.each([
    'abc',
    '.',
    '-',
    '+',
    '1.2.3',
    '1e',
    'e5',
    '1,5',
    '0x10',
    'Infinity',
    'NaN',
    '1_000',
    '٣',
    '1 2',
    '"1"',
    '1e1.5',
    '--1',
  ])('rejects %j as not a number', (text) => {
    expect(rejection(text)).toBe('non_numeric_cell');
  });

  it('rejects values that need more than 18 fraction digits', () => {
    expect(rejection('0.0000000000000000001')).toBe('too_many_fraction_digits');
    expect(rejection('1.1234567890123456789')).toBe('too_many_fraction_digits');
    expect(rejection('1e-19')).toBe('too_many_fraction_digits');
    expect(rejection('123.45e-17')).toBe('too_many_fraction_digits');
    expect(rejection('1e-99999999999999999999')).toBe('too_many_fraction_digits');
  });

  it('rejects values too large or too long to be summed cheaply', () => {
    expect(rejection(`1e${MAX_INTEGER_DIGITS}`)).toBe('non_numeric_cell');
    expect(rejection('1e99999999999999999999')).toBe('non_numeric_cell');
    expect(rejection('1'.repeat(MAX_NUMBER_LENGTH + 1))).toBe('non_numeric_cell');
    expect(rejection('1'.repeat(MAX_NUMBER_LENGTH))).toBeUndefined();
  });
});

describe('formatScaledDecimal', () => {
  it.each([
    [0n, '0'],
    [E18, '1'],
    [-E18, '-1'],
    [1n, '0.000000000000000001'],
    [-1n, '-0.000000000000000001'],
    [E18 + E18 / 2n, '1.5'],
    [-123456789n * 10n ** 12n, '-123.456789'],
    [10n ** 40n * E18, `1${'0'.repeat(40)}`],
  ])('formats %s units as %j', (value, expected) => {
    expect(formatScaledDecimal(value)).toBe(expected);
  });

  it('round-trips through the parser', () => {
    for (const text of ['-0.5', '12345678901234567890.000000000000000001', '3', '-77.25']) {
      expect(formatScaledDecimal(units(text))).toBe(text);
    }
  });
});
