import { ColumnTotals } from './column-totals.js';
import { CsvSumError, previewCell, type CsvPosition } from './errors.js';
import type { DecimalRejection } from './exact-decimal.js';
import { formatScaledDecimal } from './exact-decimal.js';
import type { CsvSumOptions, CsvSumResult } from './options.js';

/** Header names are kept up to this many UTF-8 bytes, so a runaway header cell cannot exhaust memory. */
export const MAX_HEADER_NAME_BYTES = 4096;

/**
 * What both parsers share once a row is split into fields: which columns are summed, their
 * names and exact totals, how many data rows were read, and how errors name their position.
 * Fields are 0-based here; messages and results say 1-based columns.
 */
export class ColumnSummer {
  readonly every: number;
  readonly totals = new ColumnTotals();
  private readonly hasHeader: boolean;
  private headerRead = false;
  private names: string[] = [];
  /** The header's width, or without a header the widest row so far. */
  private width = 0;
  private rowsRead = 0;
  /** Blank lines seen since the last non-blank row: rows if more data follows, ignored at the end. */
  private pendingBlankRows = 0;

  constructor(options: CsvSumOptions) {
    this.every = options.every;
    this.hasHeader = options.header;
  }

  get expectsHeader(): boolean {
    return this.hasHeader && !this.headerRead;
  }

  /** Highest 0-based field summed in data rows: the header fixes it, otherwise any width may come. */
  get lastSummedField(): number {
    return this.hasHeader ? this.summedCount(this.width) * this.every - 1 : Number.POSITIVE_INFINITY;
  }

  /** Number of the row being read: 0 while reading the header, then 1, 2, … */
  get currentRow(): number {
    return this.expectsHeader ? 0 : this.rowsRead + this.pendingBlankRows + 1;
  }

  isSummedField(field: number): boolean {
    return (field + 1) % this.every === 0 && (this.expectsHeader || field <= this.lastSummedField);
  }

  ordinalOf(field: number): number {
    return (field + 1) / this.every - 1;
  }

  /** nameOf(field) gives the header cell of each summed field. */
  acceptHeader(fieldCount: number, nameOf: (field: number) => string): void {
    this.headerRead = true;
    this.width = fieldCount;
    const count = this.summedCount(fieldCount);
    this.names = Array.from({ length: count }, (_, ordinal) => nameOf((ordinal + 1) * this.every - 1));
    this.totals.grow(count);
  }

  endDataRow(fieldCount: number, blank: boolean): void {
    if (blank) {
      this.pendingBlankRows++;
      return;
    }
    this.rowsRead += this.pendingBlankRows + 1;
    this.pendingBlankRows = 0;
    if (!this.hasHeader && fieldCount > this.width) {
      this.width = fieldCount;
      this.totals.grow(this.summedCount(fieldCount));
    }
  }

  /** Adds a cell given as text (the reference parser's path). */
  addText(cell: string, field: number, line: number): void {
    const rejection = this.totals.addText(cell, this.ordinalOf(field));
    if (rejection !== undefined) throw this.cellError(rejection, field, line, cell);
  }

  cellError(rejection: DecimalRejection, field: number, line: number, cell: string): CsvSumError {
    return new CsvSumError(
      rejection.code,
      this.position(field, line),
      `${previewCell(cell)} ${rejection.problem}`,
    );
  }

  malformed(field: number, line: number, problem: string): CsvSumError {
    return new CsvSumError('malformed_csv', this.position(field, line), problem);
  }

  result(bytesRead: number): CsvSumResult {
    const columns = Array.from({ length: this.summedCount(this.width) }, (_, ordinal) => ({
      column: (ordinal + 1) * this.every,
      name: this.hasHeader ? (this.names[ordinal] as string) : null,
      sum: formatScaledDecimal(this.totals.total(ordinal)),
    }));
    return { columns, rowsRead: this.rowsRead, bytesRead };
  }

  private summedCount(fieldCount: number): number {
    return Math.floor(fieldCount / this.every);
  }

  private position(field: number, line: number): CsvPosition {
    const name = this.hasHeader && this.isSummedField(field) ? this.names[this.ordinalOf(field)] : undefined;
    return { row: this.currentRow, line, column: field + 1, name };
  }
}

/** A header cell cut to MAX_HEADER_NAME_BYTES of UTF-8, the same way for both parsers. */
export function headerName(utf8: Uint8Array): string {
  return utf8Decoder.decode(utf8.subarray(0, MAX_HEADER_NAME_BYTES));
}

/** Keeps a U+FEFF inside a cell (only the file's leading BOM is dropped, by the scanners). */
export const utf8Decoder = new TextDecoder('utf-8', { ignoreBOM: true });
