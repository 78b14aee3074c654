import {
  FRACTION_DIGITS,
  isDecimalRejection,
  parseScaledDecimal,
  type DecimalRejection,
} from './exact-decimal.js';

const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;

/** A plain cell is summed in JS numbers when its integer part has at most this many digits... */
const FAST_INTEGER_DIGITS = 12;
/** ...and the number accumulators are carried into BigInt after this many such cells, so that
 * |integer units| <= 8192 × (10^12 − 1) < 2^53 and each 9-digit fraction half <= 8192 × 10^9:
 * every intermediate stays an exact safe integer. */
const CELLS_PER_CARRY = 8192;
const HALF_DIGITS = FRACTION_DIGITS / 2;
const HALF_SCALE = 10n ** BigInt(HALF_DIGITS);
const POWERS_OF_TEN = Array.from({ length: HALF_DIGITS + 1 }, (_, exponent) => 10 ** exponent);

const latin1 = new TextDecoder('latin1');

/**
 * Exact running sums, one per summed column (by ordinal: the 1st, 2nd, … summed column).
 * A sum is bigTotal + (integers + high·10^-9 + low·10^-18): plain cells such as "-123.456789"
 * are added to the three number parts without allocating; anything else (exponents, long
 * digit runs, blanks) goes through the exact BigInt parser.
 */
export class ColumnTotals {
  private integers = new Float64Array(0);
  private highFractions = new Float64Array(0); // 10^-9 units
  private lowFractions = new Float64Array(0); // 10^-18 units
  private bigTotals: bigint[] = [];
  private cellsSinceCarry = 0;

  /** Adds the decimal in bytes[start, end); returns why it was refused, or undefined. */
  addBytes(bytes: Uint8Array, start: number, end: number, ordinal: number): DecimalRejection | undefined {
    if (ordinal >= this.bigTotals.length) this.grow(ordinal + 1);
    let i = start;
    const sign = bytes[i];
    const negative = sign === MINUS;
    if (negative || sign === PLUS) i++;

    const integerStart = i;
    let integer = 0;
    let digit = 0;
    while (i < end && (digit = (bytes[i] as number) - ZERO) >= 0 && digit <= 9) {
      integer = integer * 10 + digit;
      i++;
    }
    const integerDigits = i - integerStart;

    let high = 0;
    let low = 0;
    let fractionDigits = 0;
    if (i < end && bytes[i] === DOT) {
      const fractionStart = ++i;
      while (i < end && (digit = (bytes[i] as number) - ZERO) >= 0 && digit <= 9) {
        if (i - fractionStart < HALF_DIGITS) high = high * 10 + digit;
        else low = low * 10 + digit;
        i++;
      }
      fractionDigits = i - fractionStart;
    }

    const plain =
      i === end &&
      integerDigits <= FAST_INTEGER_DIGITS &&
      fractionDigits <= FRACTION_DIGITS &&
      integerDigits + fractionDigits > 0;
    if (!plain) return this.addText(latin1.decode(bytes.subarray(start, end)), ordinal);

    if (fractionDigits <= HALF_DIGITS) high *= POWERS_OF_TEN[HALF_DIGITS - fractionDigits] as number;
    else low *= POWERS_OF_TEN[FRACTION_DIGITS - fractionDigits] as number;
    if (negative) {
      integer = -integer;
      high = -high;
      low = -low;
    }
    this.integers[ordinal] = (this.integers[ordinal] as number) + integer;
    this.highFractions[ordinal] = (this.highFractions[ordinal] as number) + high;
    this.lowFractions[ordinal] = (this.lowFractions[ordinal] as number) + low;
    if (++this.cellsSinceCarry === CELLS_PER_CARRY) this.carryIntoBigInt();
    return undefined;
  }

  /** Adds a decimal given as text; returns why it was refused, or undefined. */
  addText(cell: string, ordinal: number): DecimalRejection | undefined {
    const units = parseScaledDecimal(cell);
    if (isDecimalRejection(units)) return units;
    if (ordinal >= this.bigTotals.length) this.grow(ordinal + 1);
    this.bigTotals[ordinal] = (this.bigTotals[ordinal] as bigint) + units;
    return undefined;
  }

  /** Makes sure sums exist for ordinals below count (a headerless file widens as it is read). */
  grow(count: number): void {
    if (count <= this.bigTotals.length) return;
    this.carryIntoBigInt();
    this.integers = new Float64Array(count);
    this.highFractions = new Float64Array(count);
    this.lowFractions = new Float64Array(count);
    while (this.bigTotals.length < count) this.bigTotals.push(0n);
  }

  /** Exact sum of a column in 10^-18 units. */
  total(ordinal: number): bigint {
    this.carryIntoBigInt();
    return this.bigTotals[ordinal] ?? 0n;
  }

  private carryIntoBigInt(): void {
    for (let ordinal = 0; ordinal < this.bigTotals.length; ordinal++) {
      const integers = this.integers[ordinal] as number;
      const high = this.highFractions[ordinal] as number;
      const low = this.lowFractions[ordinal] as number;
      if (integers === 0 && high === 0 && low === 0) continue;
      const units = (BigInt(integers) * HALF_SCALE + BigInt(high)) * HALF_SCALE + BigInt(low);
      this.bigTotals[ordinal] = (this.bigTotals[ordinal] as bigint) + units;
      this.integers[ordinal] = 0;
      this.highFractions[ordinal] = 0;
      this.lowFractions[ordinal] = 0;
    }
    this.cellsSinceCarry = 0;
  }
}
