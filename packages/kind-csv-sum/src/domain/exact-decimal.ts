/** Exact decimals as BigInt counts of 10^-18 units: sums stay exact however many cells are added. */

export const FRACTION_DIGITS = 18;
const SCALE = 10n ** BigInt(FRACTION_DIGITS);

/** Longest cell read as a number. Bounds the memory and BigInt work one cell can cost; it is far
 * above any realistic number, and the streaming scanner keeps at most this many bytes of a cell. */
export const MAX_NUMBER_LENGTH = 4096;
/** Integer digits a value may have after its exponent is applied ("1e99999999" would otherwise
 * allocate a gigantic BigInt). */
export const MAX_INTEGER_DIGITS = 4096;

export interface DecimalRejection {
  code: 'non_numeric_cell' | 'too_many_fraction_digits';
  /** Completes "<cell> …", e.g. "is not a number". */
  problem: string;
}

const NOT_A_NUMBER: DecimalRejection = { code: 'non_numeric_cell', problem: 'is not a number' };
const OUT_OF_RANGE: DecimalRejection = {
  code: 'non_numeric_cell',
  problem: `is out of range (more than ${MAX_INTEGER_DIGITS} integer digits)`,
};
const TOO_PRECISE: DecimalRejection = {
  code: 'too_many_fraction_digits',
  problem: `needs more than ${FRACTION_DIGITS} fraction digits to be summed exactly`,
};

// sign, integer digits, fraction digits, exponent; "1.", ".5" and "-2E+3" are numbers, "." is not.
const DECIMAL_SYNTAX = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/;
const SURROUNDING_BLANKS = /^[ \t]+|[ \t]+$/g;

export function isDecimalRejection(value: bigint | DecimalRejection): value is DecimalRejection {
  return typeof value !== 'bigint';
}

/**
 * Parses a cell into 10^-18 units. Blanks around the number are ignored and an empty cell is 0.
 * Rejected: anything that is not a plain decimal, and values whose significant digits reach
 * beyond 18 fraction digits (trailing zeros do not count: "1.50000000000000000000" is fine).
 */
export function parseScaledDecimal(cell: string): bigint | DecimalRejection {
  if (cell.length > MAX_NUMBER_LENGTH) return NOT_A_NUMBER;
  const text = cell.replace(SURROUNDING_BLANKS, '');
  if (text === '') return 0n;
  const match = DECIMAL_SYNTAX.exec(text);
  if (match === null) return NOT_A_NUMBER;
  const [, sign, integerDigits = '', fractionDigits = '', exponent = '0'] = match;
  if (integerDigits === '' && fractionDigits === '') return NOT_A_NUMBER;

  // value = digits × 10^(exponent − fraction length) = digits × 10^(shift − 18) in 10^-18 units
  let digits = (integerDigits + fractionDigits).replace(/^0+/, '');
  if (digits === '') return 0n;
  let shift = Number(exponent) - fractionDigits.length + FRACTION_DIGITS;
  if (shift < 0) {
    const trailingZeros = digits.length - digits.replace(/0+$/, '').length;
    if (trailingZeros < -shift) return TOO_PRECISE;
    digits = digits.slice(0, digits.length + shift);
    shift = 0;
  }
  if (digits.length + shift - FRACTION_DIGITS > MAX_INTEGER_DIGITS) return OUT_OF_RANGE;
  const units = BigInt(digits) * 10n ** BigInt(shift);
  return sign === '-' ? -units : units;
}

/** Formats 10^-18 units as the shortest exact decimal: "-12.5", "0", "3". */
export function formatScaledDecimal(units: bigint): string {
  const negative = units < 0n;
  const magnitude = negative ? -units : units;
  const integer = (magnitude / SCALE).toString();
  const fraction = (magnitude % SCALE).toString().padStart(FRACTION_DIGITS, '0').replace(/0+$/, '');
  return (negative ? '-' : '') + integer + (fraction === '' ? '' : `.${fraction}`);
}
