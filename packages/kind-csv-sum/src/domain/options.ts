export type CsvDelimiter = ',' | ';' | '\t';

export interface CsvSumOptions {
  /** Sum columns every, 2·every, 3·every, … (1-based). */
  every: number;
  delimiter: CsvDelimiter;
  /** The first row names the columns and decides how many there are. */
  header: boolean;
}

export interface ColumnSum {
  /** 1-based column position. */
  column: number;
  /** Header cell of the column, or null when the file has no header. */
  name: string | null;
  /** Exact decimal sum, e.g. "-1234.5". */
  sum: string;
}

export interface CsvSumResult {
  columns: ColumnSum[];
  /** Data rows, not counting the header or blank lines at the end of the file. */
  rowsRead: number;
  bytesRead: number;
}

export const DEFAULT_CSV_SUM_OPTIONS: Readonly<CsvSumOptions> = { every: 10, delimiter: ',', header: true };

const DELIMITERS: readonly string[] = [',', ';', '\t'];

/** Fills in defaults and rejects options the scanners cannot honour. */
export function resolveCsvSumOptions(options: Partial<CsvSumOptions> = {}): CsvSumOptions {
  const resolved = { ...DEFAULT_CSV_SUM_OPTIONS, ...options };
  if (!Number.isSafeInteger(resolved.every) || resolved.every < 1) {
    throw new RangeError(`every must be a positive integer, got ${String(resolved.every)}`);
  }
  if (!DELIMITERS.includes(resolved.delimiter)) {
    throw new RangeError(
      `delimiter must be one of ",", ";" or a tab, got ${JSON.stringify(resolved.delimiter)}`,
    );
  }
  return resolved;
}
