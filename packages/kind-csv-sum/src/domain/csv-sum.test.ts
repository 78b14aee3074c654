import {
  CsvColumnSummer,
  CsvSumError,
  sumCsvStream,
  type CsvSumOptions,
  type CsvSumResult,
} from './index.js';
import { sumCsvReference } from './reference-parser.js';

// ---------------------------------------------------------------------------------------------
// Generated CSV files whose expected sums are computed independently, with BigInt, from the
// values before they are written as text.

const E18 = 10n ** 18n;

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Shape extends CsvSumOptions {
  seed: number;
  rows: number;
  width: number;
  lineEnd: '\n' | '\r\n' | 'mixed';
  bom: boolean;
  /** Chance that a field is quoted even though it need not be. */
  quoteRate: number;
  /** Whether non-summed fields hold text with quotes, delimiters and newlines. */
  textCells: boolean;
  trailingBlankLines: number;
  finalLineEnd: boolean;
}

interface GeneratedCsv {
  bytes: Buffer;
  expected: CsvSumResult;
}

function formatUnits(units: bigint): string {
  const sign = units < 0n ? '-' : '';
  const magnitude = units < 0n ? -units : units;
  const fraction = (magnitude % E18).toString().padStart(18, '0').replace(/0+$/, '');
  return `${sign}${magnitude / E18}${fraction ? `.${fraction}` : ''}`;
}

class CsvWriter {
  readonly next: () => number;

  constructor(private readonly shape: Shape) {
    this.next = random(shape.seed);
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  digits(count: number): string {
    let text = '';
    for (let i = 0; i < count; i++) text += Math.floor(this.next() * 10);
    return text;
  }

  /** A number as text in one of many spellings, and its exact value in 10^-18 units. */
  number(): { text: string; units: bigint } {
    const negative = this.chance(0.4);
    const integer = this.chance(0.03) ? this.digits(40) : this.digits(Math.floor(this.next() * 14));
    const fraction = this.chance(0.1) ? this.digits(18) : this.digits(Math.floor(this.next() * 10));
    const allDigits = integer + fraction || '0';
    const units = (negative ? -1n : 1n) * BigInt(integer + fraction.padEnd(18, '0') || '0');
    const sign = negative ? '-' : this.pick(['', '', '+']);
    let text: string;
    if (this.chance(0.15)) {
      // d.ddd × 10^exponent with the point after the first digit
      const exponent = allDigits.length - 1 - fraction.length;
      const mantissa = allDigits.length > 1 ? `${allDigits[0]}.${allDigits.slice(1)}` : allDigits;
      const exponentSign = exponent < 0 ? '-' : this.pick(['', '+']);
      text = `${sign}${mantissa}${this.pick(['e', 'E'])}${exponentSign}${Math.abs(exponent)}`;
    } else {
      text = `${sign}${integer || (fraction ? this.pick(['', '0']) : '0')}${fraction ? `.${fraction}` : ''}`;
      if (fraction && this.chance(0.1)) text += '000'; // trailing zeros beyond the digits that count
    }
    if (this.chance(0.05)) text = ` ${text}  `;
    if (this.chance(0.03)) return { text: this.pick(['', ' ']), units: 0n };
    return { text, units };
  }

  text(): string {
    const alphabet = this.shape.textCells
      ? ['a', 'b', 'Z', ' ', 'é', '😀', ',', ';', '\t', '"', '\n', '\r\n', '7']
      : ['a', 'b', 'é', 'x'];
    let text = '';
    const length = Math.floor(this.next() * 8);
    for (let i = 0; i < length; i++) text += this.pick(alphabet);
    return text;
  }

  field(text: string, alone: boolean): string {
    const delimiter = this.shape.delimiter;
    const needsQuotes = /["\r\n]/.test(text) || text.includes(delimiter) || (alone && text === '');
    return needsQuotes || this.chance(this.shape.quoteRate) ? `"${text.replaceAll('"', '""')}"` : text;
  }

  lineEnd(): string {
    return this.shape.lineEnd === 'mixed' ? this.pick(['\n', '\r\n']) : this.shape.lineEnd;
  }
}

function generateCsv(shape: Shape): GeneratedCsv {
  const writer = new CsvWriter(shape);
  const { every, delimiter, header, width } = shape;
  const isSummed = (field: number): boolean => (field + 1) % every === 0;
  const lines: string[] = [];
  const sums: bigint[] = [];
  const names: string[] = [];
  let widest = 0;

  if (header) {
    const cells = Array.from({ length: width }, () => writer.text());
    cells.forEach((name, field) => isSummed(field) && names.push(name));
    lines.push(cells.map((cell) => writer.field(cell, width === 1)).join(delimiter));
  }
  const summedLimit = header ? width : Number.POSITIVE_INFINITY;
  for (let row = 0; row < shape.rows; row++) {
    if (writer.chance(0.02)) {
      lines.push(''); // a blank line inside the data: a row of empty cells
      continue;
    }
    const fieldCount = writer.chance(0.1) ? 1 + Math.floor(writer.next() * (width + every * 2)) : width;
    const fields: string[] = [];
    for (let field = 0; field < fieldCount; field++) {
      if (isSummed(field) && field < summedLimit) {
        const { text, units } = writer.number();
        const ordinal = (field + 1) / every - 1;
        sums[ordinal] = (sums[ordinal] ?? 0n) + units;
        fields.push(writer.field(text, fieldCount === 1));
      } else {
        // Beyond the header's width even a summed position may hold text: it is ignored.
        fields.push(writer.field(writer.text(), fieldCount === 1));
      }
    }
    widest = Math.max(widest, fieldCount);
    lines.push(fields.join(delimiter));
  }
  for (let i = 0; i < shape.trailingBlankLines; i++) lines.push('');

  let text = shape.bom ? '\uFEFF' : '';
  lines.forEach((line, index) => {
    const last = index === lines.length - 1;
    text += line + (last && !shape.finalLineEnd && line !== '' ? '' : writer.lineEnd());
  });
  const dataLines = lines.length - (header ? 1 : 0) - shape.trailingBlankLines;
  const columnCount = Math.floor((header ? width : widest) / every);
  const bytes = Buffer.from(text, 'utf8');
  return {
    bytes,
    expected: {
      columns: Array.from({ length: columnCount }, (_, ordinal) => ({
        column: (ordinal + 1) * every,
        name: header ? (names[ordinal] as string) : null,
        sum: formatUnits(sums[ordinal] ?? 0n),
      })),
      rowsRead: dataLines,
      bytesRead: bytes.length,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Feeding bytes to the three entry points.

/** Splits bytes into chunks; subarrays keep arbitrary (unaligned) byte offsets. */
function chunksOf(bytes: Uint8Array, sizes: () => number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let start = 0; start < bytes.length;) {
    const end = Math.min(bytes.length, start + Math.max(1, sizes()));
    chunks.push(bytes.subarray(start, end));
    start = end;
  }
  return chunks;
}

async function* streamOf(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield chunk;
}

function pushAll(chunks: Uint8Array[], options: Partial<CsvSumOptions>): CsvSumResult {
  const summer = new CsvColumnSummer(options);
  for (const chunk of chunks) summer.push(chunk);
  return summer.finish();
}

type Outcome = CsvSumResult | { code: string; row: number; line: number; column: number; message: string };

async function outcome(run: () => Promise<CsvSumResult> | CsvSumResult): Promise<Outcome> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof CsvSumError)) throw error;
    const { code, row, line, column, message } = error;
    return { code, row, line, column, message };
  }
}

/** Runs the fast path (whole, in 1-, 7- and random-byte chunks) and the reference; all must agree. */
async function allOutcomes(text: string | Buffer, options: Partial<CsvSumOptions>): Promise<Outcome> {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const sizes = random(bytes.length);
  const reference = await outcome(() => sumCsvReference(streamOf([bytes]), options));
  for (const chunks of [
    [bytes],
    chunksOf(bytes, () => 1),
    chunksOf(bytes, () => 7),
    chunksOf(bytes, () => sizes() * 40),
  ]) {
    expect(await outcome(() => pushAll(chunks, options))).toEqual(reference);
  }
  return reference;
}

// ---------------------------------------------------------------------------------------------

const BASE: Shape = {
  every: 10,
  delimiter: ',',
  header: true,
  seed: 1,
  rows: 300,
  width: 30,
  lineEnd: '\n',
  bom: false,
  quoteRate: 0.05,
  textCells: true,
  trailingBlankLines: 0,
  finalLineEnd: true,
};

const SHAPES: [string, Partial<Shape>][] = [
  ['plain LF, no quotes', { textCells: false, quoteRate: 0, rows: 2000 }],
  ['quotes, embedded delimiters and newlines', { seed: 2 }],
  ['CRLF with a BOM and no final line end', { seed: 3, lineEnd: '\r\n', bom: true, finalLineEnd: false }],
  ['mixed line ends, trailing blank lines', { seed: 4, lineEnd: 'mixed', trailingBlankLines: 2 }],
  ['semicolons, every 3rd', { seed: 5, delimiter: ';', every: 3, width: 17 }],
  ['tabs, heavy quoting', { seed: 6, delimiter: '\t', quoteRate: 0.5, every: 4, width: 13 }],
  ['no header, widths vary', { seed: 7, header: false, width: 12, every: 5 }],
  [
    'no header, CRLF, one trailing blank line',
    { seed: 8, header: false, lineEnd: '\r\n', trailingBlankLines: 1, every: 2, width: 7 },
  ],
  ['every column', { seed: 9, every: 1, width: 4 }],
  ['header narrower than every', { seed: 10, every: 10, width: 6 }],
];

describe('sums of generated files', () => {
  it.each(SHAPES)('%s: fast path and reference equal the exact sums', async (_, overrides) => {
    const shape = { ...BASE, ...overrides };
    const { bytes, expected } = generateCsv(shape);
    const options = { every: shape.every, delimiter: shape.delimiter, header: shape.header };
    expect(await sumCsvReference(streamOf(chunksOf(bytes, () => 4096)), options)).toEqual(expected);
    expect(await sumCsvStream(streamOf(chunksOf(bytes, () => 65536)), options)).toEqual(expected);
    expect(pushAll([bytes], options)).toEqual(expected);
  });

  it.each(SHAPES)('%s: any chunking gives the same result', (_, overrides) => {
    const shape = { ...BASE, ...overrides, rows: 150 };
    const { bytes, expected } = generateCsv(shape);
    const options = { every: shape.every, delimiter: shape.delimiter, header: shape.header };
    const sizes = random(shape.seed);
    for (const chunks of [
      chunksOf(bytes, () => 1),
      chunksOf(bytes, () => 7),
      chunksOf(bytes, () => Math.floor(sizes() * 300)),
      chunksOf(bytes, () => Math.floor(sizes() * 5000)),
    ]) {
      expect(pushAll(chunks, options)).toEqual(expected);
    }
  });
});

describe('edge cases', () => {
  it('counts an empty cell, a blank cell and a short row as 0', async () => {
    expect(await allOutcomes('a,b\n1, \n,2\n3\n', { every: 2 })).toEqual({
      columns: [{ column: 2, name: 'b', sum: '2' }],
      rowsRead: 3,
      bytesRead: 13,
    });
  });

  it('reads an empty file and a header-only file as no rows', async () => {
    expect(await allOutcomes('', { every: 2 })).toEqual({ columns: [], rowsRead: 0, bytesRead: 0 });
    expect(await allOutcomes('\uFEFFa,"b,c"\r\n', { every: 2 })).toEqual({
      columns: [{ column: 2, name: 'b,c', sum: '0' }],
      rowsRead: 0,
      bytesRead: 12, // the BOM counts as read
    });
  });

  it('counts blank lines inside the data as rows and ignores them at the end', async () => {
    const result = await allOutcomes('a\n1\n\n\r\n2\n\n\r\n', { every: 1 });
    expect(result).toMatchObject({ columns: [{ column: 1, name: 'a', sum: '3' }], rowsRead: 4 });
  });

  it('without a header lists every summed column any row reached', async () => {
    const result = await allOutcomes('1,2\n1,2,3,4,5,6\n1,2,3,4\n', { every: 2, header: false });
    expect(result).toMatchObject({
      columns: [
        { column: 2, name: null, sum: '6' },
        { column: 4, name: null, sum: '8' },
        { column: 6, name: null, sum: '6' },
      ],
      rowsRead: 3,
    });
  });

  it('ignores fields beyond the header, whatever they hold', async () => {
    const result = await allOutcomes('a,b\n1,2,x,y\n', { every: 2 });
    expect(result).toMatchObject({ columns: [{ column: 2, name: 'b', sum: '2' }], rowsRead: 1 });
  });

  it('reads quoted numbers, doubled quotes and a CR that is data', async () => {
    const text = 'n,"say ""v"""\n1," -1.5e1 "\n"x\r",2\n';
    expect(await allOutcomes(text, { every: 2 })).toMatchObject({
      columns: [{ column: 2, name: 'say "v"', sum: '-13' }],
      rowsRead: 2,
    });
  });

  it('sums 18-digit fractions and huge integers exactly', async () => {
    const text = `v\n0.000000000000000001\n${'9'.repeat(50)}\n-1e-18\n0.1\n0.2\n`;
    expect(await allOutcomes(text, { every: 1 })).toMatchObject({
      columns: [{ column: 1, name: 'v', sum: `${'9'.repeat(50)}.3` }],
    });
  });
});

describe('errors', () => {
  it('names the row, line and column of a non-numeric cell', async () => {
    const text = 'id,"multi\nline",price\n1,"a\nb",2\n2,x,abc\n';
    expect(await allOutcomes(text, { every: 3 })).toEqual({
      code: 'non_numeric_cell',
      row: 2,
      line: 5,
      column: 3,
      message: 'row 2 (line 5), column 3 ("price"): "abc" is not a number',
    });
  });

  it('rejects a number needing more than 18 fraction digits', async () => {
    const result = await allOutcomes('a;b\n1;0.0000000000000000001\n', { every: 2, delimiter: ';' });
    expect(result).toMatchObject({ code: 'too_many_fraction_digits', row: 1, line: 2, column: 2 });
  });

  it('rejects a cell too long to be a number, showing only its start', async () => {
    const result = await allOutcomes(`a\n${'1'.repeat(5000)}\n`, { every: 1 });
    expect(result).toMatchObject({ code: 'non_numeric_cell', row: 1, line: 2, column: 1 });
    expect((result as { message: string }).message).toBe(
      `row 1 (line 2), column 1 ("a"): "${'1'.repeat(40)}"… is not a number`,
    );
  });

  it('counts blank lines before a bad row, and works without a header', async () => {
    const result = await allOutcomes('1,2\r\n\r\n3,4x\r\n', { every: 2, header: false });
    expect(result).toMatchObject({ code: 'non_numeric_cell', row: 3, line: 3, column: 2 });
    expect((result as { message: string }).message).toBe('row 3 (line 3), column 2: "4x" is not a number');
  });

  it.each([
    ['an unterminated quote', 'a,b\n1,2\n3,"4\n5\n', 2, 3, 2],
    ['a quote inside an unquoted field', 'a,b\n1,2"\n', 1, 2, 2],
    ['text after a closing quote', 'a,b\n"1"x,2\n', 1, 2, 1],
    ['a CR alone after a closing quote', 'a,b\n1,"2"\r3\n', 1, 2, 2],
    ['a malformed header', 'a,"b\n', 0, 1, 2],
  ])('reports %s as malformed_csv', async (_, text, row, line, column) => {
    expect(await allOutcomes(text, { every: 2 })).toMatchObject({ code: 'malformed_csv', row, line, column });
  });

  it('is a CsvSumError with a readable message', () => {
    const summer = new CsvColumnSummer({ every: 2 });
    summer.push(Buffer.from('a,price\n1,"2'));
    const expected = new CsvSumError(
      'malformed_csv',
      { row: 1, line: 2, column: 2, name: 'price' },
      'unterminated quoted field: the file ends inside quotes',
    );
    expect(expected.message).toBe(
      'row 1 (line 2), column 2 ("price"): unterminated quoted field: the file ends inside quotes',
    );
    expect(() => summer.finish()).toThrow(expected);
    expect(() => summer.finish()).toThrow(expected); // no result after a failure
    expect(() => summer.push(Buffer.from('"'))).toThrow();
  });

  it('rejects options it cannot honour', () => {
    expect(() => new CsvColumnSummer({ every: 0 })).toThrow(RangeError);
    expect(() => new CsvColumnSummer({ delimiter: '|' as ',' })).toThrow(RangeError);
  });
});

describe('sumCsvStream', () => {
  const bytes = Buffer.from('a,b\n1,2\n3,4\n');

  it('reports progress after each chunk', async () => {
    const progress: number[] = [];
    const result = await sumCsvStream(
      streamOf(chunksOf(bytes, () => 5)),
      { every: 2 },
      { onProgress: (read) => progress.push(read) },
    );
    expect(progress).toEqual([5, 10, 12]);
    expect(result.columns).toEqual([{ column: 2, name: 'b', sum: '6' }]);
  });

  it('stops between chunks when aborted', async () => {
    const controller = new AbortController();
    let chunksPulled = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (const chunk of chunksOf(bytes, () => 2)) {
        chunksPulled++;
        yield chunk;
      }
    }
    const run = sumCsvStream(
      source(),
      { every: 2 },
      { signal: controller.signal, onProgress: () => controller.abort() },
    );
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(chunksPulled).toBe(2);
  });

  it('throws the abort reason, also when aborted before the start', async () => {
    const reason = new Error('job cancelled');
    await expect(sumCsvStream(streamOf([bytes]), {}, { signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
  });
});
