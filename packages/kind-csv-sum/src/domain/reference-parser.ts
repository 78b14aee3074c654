import { pipeline } from 'node:stream/promises';
import { CsvError, parse, type Info } from 'csv-parse';
import { ColumnSummer, headerName } from './column-summer.js';
import { MALFORMED, type CsvSumError } from './errors.js';
import { resolveCsvSumOptions, type CsvSumOptions, type CsvSumResult } from './options.js';

const LF = 0x0a;
const QUOTE = 0x22;

/**
 * The slow, obviously-correct path: csv-parse splits records, the summing rules are applied to
 * the resulting strings. Kept to cross-check the fast scanner; gives the same results and errors.
 * Tests import it from this file: csv-parse is a dev dependency, so index.ts must not load it.
 */
export async function sumCsvReference(
  source: AsyncIterable<Uint8Array>,
  options: Partial<CsvSumOptions> = {},
): Promise<CsvSumResult> {
  const resolved = resolveCsvSumOptions(options);
  const summer = new ColumnSummer(resolved);
  const input = new ConsumedInput();
  let rowLine = 1;

  // Runs synchronously as csv-parse completes each record, so `input` still holds its bytes.
  const sumRecord = (record: string[], info: Info): null => {
    const line = rowLine;
    const { lineFeeds, hasQuote } = input.consumeUpTo(info.bytes);
    rowLine += lineFeeds;
    if (summer.expectsHeader) {
      summer.acceptHeader(record.length, (field) => headerName(Buffer.from(record[field] ?? '', 'utf8')));
      return null;
    }
    const blank = record.length === 1 && record[0] === '' && !hasQuote;
    const lastField = Math.min(record.length - 1, summer.lastSummedField);
    for (let field = summer.every - 1; field <= lastField; field += summer.every) {
      const cell = record[field] as string;
      if (cell !== '') summer.addText(cell, field, line);
    }
    summer.endDataRow(record.length, blank);
    return null; // nothing to keep: the sums are the result
  };

  const parser = parse({
    delimiter: resolved.delimiter,
    bom: true,
    record_delimiter: ['\r\n', '\n'],
    relax_column_count: true,
    skip_empty_lines: false,
    on_record: sumRecord,
  });
  async function* recorded(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      input.append(bytes);
      yield bytes;
    }
  }
  try {
    await pipeline(recorded(), parser, async (records: AsyncIterable<unknown>) => {
      for await (const _ of records); // drains the parser; records were consumed by sumRecord
    });
  } catch (error) {
    if (error instanceof CsvError) throw malformedError(error, summer, rowLine);
    throw error;
  }
  return summer.result(input.length);
}

function malformedError(error: CsvError, summer: ColumnSummer, rowLine: number): CsvSumError {
  const field = typeof error.index === 'number' ? error.index : 0;
  return summer.malformed(field, rowLine, PROBLEMS[error.code] ?? error.message);
}

const PROBLEMS: Partial<Record<CsvError['code'], string>> = {
  CSV_QUOTE_NOT_CLOSED: MALFORMED.unterminatedQuote,
  INVALID_OPENING_QUOTE: MALFORMED.quoteInUnquotedField,
  CSV_INVALID_CLOSING_QUOTE: MALFORMED.badClosingQuote,
};

/** Input bytes not yet attributed to a record, to count the physical lines each record spans. */
class ConsumedInput {
  private readonly chunks: Buffer[] = [];
  private firstChunkOffset = 0;
  private consumed = 0;
  length = 0;

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Scans the bytes up to the absolute offset `end` and forgets them. */
  consumeUpTo(end: number): { lineFeeds: number; hasQuote: boolean } {
    let lineFeeds = 0;
    let hasQuote = false;
    while (this.consumed < end) {
      const chunk = this.chunks[0] as Buffer;
      const stop = Math.min(chunk.length, end - this.firstChunkOffset);
      for (let i = this.consumed - this.firstChunkOffset; i < stop; i++) {
        if (chunk[i] === LF) lineFeeds++;
        else if (chunk[i] === QUOTE) hasQuote = true;
      }
      this.consumed = this.firstChunkOffset + stop;
      if (stop === chunk.length) {
        this.chunks.shift();
        this.firstChunkOffset += chunk.length;
      }
    }
    return { lineFeeds, hasQuote };
  }
}
