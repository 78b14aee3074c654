import { ColumnTotals } from './column-totals.js';
import { isDecimalRejection, parseScaledDecimal } from './exact-decimal.js';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function digits(next: () => number, count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) text += Math.floor(next() * 10);
  return text;
}

/** Cells on both sides of the fast path's limits: 12 integer digits, 9 and 18 fraction digits. */
function randomCell(next: () => number): string {
  const sign = ['', '-', '+'][Math.floor(next() * 3)] as string;
  const integer = digits(next, Math.floor(next() * 14));
  const fractionDigits = Math.floor(next() * 20) - 1;
  const fraction = fractionDigits < 0 ? '' : `.${digits(next, fractionDigits)}`;
  const text = sign + integer + fraction;
  return /[0-9]/.test(text) ? text : `${text}0`;
}

function exact(cell: string): bigint {
  const units = parseScaledDecimal(cell);
  if (isDecimalRejection(units)) throw new Error(`unexpected rejection of ${cell}`);
  return units;
}

describe('ColumnTotals', () => {
  it('sums plain and long cells exactly across many number-to-BigInt carries', () => {
    const next = random(7);
    const totals = new ColumnTotals();
    const expected = [0n, 0n, 0n];
    for (let i = 0; i < 60_000; i++) {
      const ordinal = i % 3;
      const cell = randomCell(next);
      const cellUnits = exact(cell);
      expected[ordinal] = (expected[ordinal] as bigint) + cellUnits;
      expect(totals.addBytes(Buffer.from(` ${cell}`), 1, cell.length + 1, ordinal)).toBeUndefined();
    }
    expect([0, 1, 2].map((ordinal) => totals.total(ordinal))).toEqual(expected);
  });

  it('keeps the largest plain cells exact at the carry bound', () => {
    const totals = new ColumnTotals();
    const cell = Buffer.from('-999999999999.999999999999999999');
    for (let i = 0; i < 3 * 8192 + 5; i++) totals.addBytes(cell, 0, cell.length, 0);
    expect(totals.total(0)).toBe(-(10n ** 30n - 1n) * BigInt(3 * 8192 + 5));
  });

  it('reports why a cell was refused and leaves the sum alone', () => {
    const totals = new ColumnTotals();
    totals.addBytes(Buffer.from('2'), 0, 1, 0);
    expect(totals.addBytes(Buffer.from('x2'), 0, 2, 0)?.code).toBe('non_numeric_cell');
    expect(totals.addText('1e-19', 0)?.code).toBe('too_many_fraction_digits');
    expect(totals.total(0)).toBe(2n * 10n ** 18n);
  });
});
