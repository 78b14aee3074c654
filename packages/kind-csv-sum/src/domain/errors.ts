export type CsvSumErrorCode = 'non_numeric_cell' | 'too_many_fraction_digits' | 'malformed_csv';

/** Where a problem is: row 0 is the header, data rows count from 1; line is the physical
 * (LF-counted) line on which the row starts; column is 1-based. */
export interface CsvPosition {
  row: number;
  line: number;
  column: number;
  /** Header name of the column, when known. */
  name?: string | null;
}

export class CsvSumError extends Error {
  override readonly name = 'CsvSumError';
  readonly code: CsvSumErrorCode;
  readonly row: number;
  readonly line: number;
  readonly column: number;

  constructor(code: CsvSumErrorCode, position: CsvPosition, problem: string) {
    super(`${describePosition(position)}: ${problem}`);
    this.code = code;
    this.row = position.row;
    this.line = position.line;
    this.column = position.column;
  }
}

function describePosition({ row, line, column, name }: CsvPosition): string {
  const where = row === 0 ? `header row (line ${line})` : `row ${row} (line ${line})`;
  const columnName = name === undefined || name === null ? '' : ` (${JSON.stringify(name)})`;
  return `${where}, column ${column}${columnName}`;
}

/** Problems of malformed CSV, worded the same by both parsers. */
export const MALFORMED = {
  unterminatedQuote: 'unterminated quoted field: the file ends inside quotes',
  quoteInUnquotedField:
    'a quote inside an unquoted field; quote the whole field and double the quotes in it ("")',
  badClosingQuote:
    'a closing quote must be followed by a delimiter or a line end (write "" for a quote inside a quoted field)',
} as const;

const PREVIEW_CHARS = 40;

/** The cell as shown in a message: quoted, and cut short so a huge cell cannot flood a log. */
export function previewCell(text: string): string {
  const cut = [...text.slice(0, PREVIEW_CHARS * 2)].slice(0, PREVIEW_CHARS).join('');
  return JSON.stringify(cut) + (cut.length < text.length ? '…' : '');
}
