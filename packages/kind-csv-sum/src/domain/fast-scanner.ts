import { CellBuffer } from './cell-buffer.js';
import { ColumnSummer, headerName, MAX_HEADER_NAME_BYTES, utf8Decoder } from './column-summer.js';
import { MALFORMED } from './errors.js';
import { MAX_NUMBER_LENGTH } from './exact-decimal.js';
import { resolveCsvSumOptions, type CsvSumOptions, type CsvSumResult } from './options.js';

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const END_OF_INPUT = -1;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

// Where the general scanner is inside the current field.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3; // a closing quote, or the first half of ""
const CR_AFTER_QUOTE = 4; // only a LF may follow

type FieldState =
  typeof FIELD_START | typeof UNQUOTED | typeof QUOTED | typeof QUOTE_IN_QUOTED | typeof CR_AFTER_QUOTE;

/** One extra byte beyond the longest number tells a too-long cell apart from a maximal one. */
const CELL_CAPACITY = Math.max(MAX_NUMBER_LENGTH, MAX_HEADER_NAME_BYTES) + 1;

/**
 * Sums every Nth column of a CSV fed in chunks split anywhere, in constant memory.
 *
 * Two scanners share the state of the current row. The fast one handles rows with no quote in
 * them: it finds delimiters and LFs four bytes at a time and sums the wanted cells straight from
 * the chunk, without decoding. Whenever it meets a quote or the end of the chunk it hands the
 * current field to the general scanner, a byte-at-a-time state machine that handles everything
 * (quotes, the header, fields split across chunks) until that row ends.
 */
export class CsvColumnSummer {
  private readonly summer: ColumnSummer;
  private readonly delimiter: number;
  private totalBytes = 0;
  private finished = false;
  private bomBytesMatched = 0;
  private bomChecked = false;
  private failure: unknown = undefined;

  /** The general scanner owns the current row (after a hand-off, or for the header). */
  private generalScannerOwnsRow = true;
  private state: FieldState = FIELD_START;
  /** 0-based index of the current field in its row. */
  private field = 0;
  /** Whether the current field's bytes are kept: it is summed, or a header name. */
  private collecting = false;
  private readonly cell = new CellBuffer(CELL_CAPACITY);
  /** The last byte of an unquoted field was a CR: the line end if a LF follows, data otherwise. */
  private pendingCR = false;
  /** False only while the row is still a completely empty line. */
  private rowHasContent = false;
  private readonly headerNames = new Map<number, string>();
  /** The physical line being read, and the line the current row started on. */
  private line = 1;
  private rowLine = 1;

  constructor(options: Partial<CsvSumOptions> = {}) {
    const resolved = resolveCsvSumOptions(options);
    this.summer = new ColumnSummer(resolved);
    this.delimiter = resolved.delimiter.charCodeAt(0);
    this.beginField(0);
  }

  get bytesRead(): number {
    return this.totalBytes;
  }

  push(chunk: Uint8Array): void {
    if (this.finished) throw new Error('CsvColumnSummer: push() after finish()');
    this.totalBytes += chunk.byteLength;
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.failSafely(() => this.scan(this.skipBom(bytes)));
  }

  finish(): CsvSumResult {
    if (!this.finished) {
      this.finished = true;
      this.failSafely(() => {
        if (!this.bomChecked) this.scan(UTF8_BOM.subarray(0, this.bomBytesMatched));
        this.endOfInput();
      });
    }
    if (this.failure !== undefined) throw this.failure;
    return this.summer.result(this.totalBytes);
  }

  /** After an error the row state is half-updated: every later call repeats the error. */
  private failSafely(work: () => void): void {
    if (this.failure !== undefined) throw this.failure;
    try {
      work();
    } catch (error) {
      this.failure = error;
      throw error;
    }
  }

  /** Drops a leading UTF-8 BOM, which may itself arrive split over chunks. */
  private skipBom(bytes: Buffer): Buffer {
    if (this.bomChecked) return bytes;
    let i = 0;
    while (
      this.bomBytesMatched < UTF8_BOM.length &&
      i < bytes.length &&
      bytes[i] === UTF8_BOM[this.bomBytesMatched]
    ) {
      this.bomBytesMatched++;
      i++;
    }
    if (this.bomBytesMatched === UTF8_BOM.length) {
      this.bomChecked = true;
    } else if (i < bytes.length) {
      // Not a BOM after all: the bytes that looked like its start are data.
      this.bomChecked = true;
      this.scan(UTF8_BOM.subarray(0, this.bomBytesMatched));
    }
    return bytes.subarray(i);
  }

  private scan(bytes: Buffer): void {
    const words = WORD_SCAN ? alignedWords(bytes) : undefined;
    const end = bytes.length;
    let i = 0;
    while (i < end) {
      i =
        this.generalScannerOwnsRow || words === undefined
          ? this.scanGeneral(bytes, i, end)
          : this.scanRowsFast(bytes, words, i, end);
    }
  }

  /**
   * The hot loop, for data rows from a row start. It visits only delimiter and LF bytes, found
   * four at a time in 32-bit words, and stops before the next quote or the last partial word.
   * Returns `end` when it stopped at a row start, otherwise the start of the field it handed
   * to the general scanner.
   */
  private scanRowsFast(
    bytes: Buffer,
    { words, firstAligned }: AlignedWords,
    start: number,
    end: number,
  ): number {
    if (start < firstAligned) return this.handOff(start, 0, this.line);
    const summer = this.summer;
    const totals = summer.totals;
    const delimiter = this.delimiter;
    const delimiterWord = Math.imul(delimiter, ONES);
    const every = summer.every;
    const lastSummedField = summer.lastSummedField;
    const firstSummedField = every - 1 <= lastSummedField ? every - 1 : NOT_SUMMED;
    const quote = bytes.indexOf(QUOTE, start);
    // Words wholly before the next quote: their bytes split on delimiters and LFs alone.
    const wordLimit = ((quote === -1 ? end : quote) - firstAligned) >> 2;

    let line = this.line;
    let rowStart = start;
    let field = 0;
    let fieldStart = start;
    let summedField = firstSummedField;
    let ordinal = 0;
    let wordIndex = (start - firstAligned) >> 2;
    let wordStart = firstAligned + wordIndex * 4;
    // Lanes before `start` are masked off: they belong to a row already read.
    let candidates =
      wordIndex < wordLimit ? delimiterOrLineFeedLanes(words[wordIndex] as number, delimiterWord) : 0;
    candidates &= -1 << ((start - wordStart) * 8);
    for (;;) {
      while (candidates === 0) {
        if (++wordIndex >= wordLimit) {
          this.line = line;
          return fieldStart === end && field === 0 ? end : this.handOff(fieldStart, field, line);
        }
        wordStart += 4;
        candidates = delimiterOrLineFeedLanes(words[wordIndex] as number, delimiterWord);
      }
      const lowest = candidates & -candidates;
      candidates ^= lowest;
      const position = wordStart + ((31 - Math.clz32(lowest)) >> 3);
      const byte = bytes[position];
      if (byte !== delimiter && byte !== LF) continue; // the word test's false positive

      if (field === summedField) {
        // A CR right before the LF belongs to the line end (CRLF), not to the cell.
        const valueEnd =
          byte === LF && position > fieldStart && bytes[position - 1] === CR ? position - 1 : position;
        if (valueEnd > fieldStart) {
          const rejection = totals.addBytes(bytes, fieldStart, valueEnd, ordinal);
          if (rejection !== undefined) {
            throw summer.cellError(
              rejection,
              field,
              line,
              utf8Decoder.decode(bytes.subarray(fieldStart, valueEnd)),
            );
          }
        }
        ordinal++;
        summedField = summedField + every <= lastSummedField ? summedField + every : NOT_SUMMED;
      }
      if (byte === delimiter) {
        field++;
        fieldStart = position + 1;
      } else {
        summer.endDataRow(field + 1, field === 0 && isBlankLine(bytes, rowStart, position));
        line++;
        rowStart = fieldStart = position + 1;
        field = 0;
        summedField = firstSummedField;
        ordinal = 0;
      }
    }
  }

  /** Lets the general scanner finish the row, from the start of its field `field`. */
  private handOff(fieldStart: number, field: number, line: number): number {
    this.generalScannerOwnsRow = true;
    this.line = line;
    this.rowLine = line;
    this.rowHasContent = field > 0;
    this.pendingCR = false;
    this.state = FIELD_START;
    this.beginField(field);
    return fieldStart;
  }

  /** Reads bytes until the current row ends (returns the index after its LF) or the chunk does. */
  private scanGeneral(bytes: Buffer, start: number, end: number): number {
    for (let i = start; i < end;) {
      if (this.step(bytes[i++] as number)) return i;
    }
    return end;
  }

  /** Feeds one byte to the field state machine; true when it ended the row. */
  private step(byte: number): boolean {
    switch (this.state) {
      case FIELD_START:
        if (byte === QUOTE) {
          this.rowHasContent = true;
          this.state = QUOTED;
          return false;
        }
        this.state = UNQUOTED;
        return this.stepUnquoted(byte);
      case UNQUOTED:
        return this.stepUnquoted(byte);
      case QUOTED:
        if (byte === QUOTE) {
          this.state = QUOTE_IN_QUOTED;
        } else {
          if (byte === LF) this.line++;
          this.keep(byte);
        }
        return false;
      case QUOTE_IN_QUOTED:
        if (byte === QUOTE) {
          this.keep(QUOTE);
          this.state = QUOTED;
          return false;
        }
        if (byte === CR) {
          this.state = CR_AFTER_QUOTE;
          return false;
        }
        if (byte !== this.delimiter && byte !== LF) throw this.closingQuoteError();
        return this.endField(byte);
      case CR_AFTER_QUOTE:
        if (byte !== LF) throw this.closingQuoteError();
        return this.endField(LF);
    }
  }

  private stepUnquoted(byte: number): boolean {
    if (byte === this.delimiter || byte === LF) return this.endField(byte);
    if (byte === QUOTE) {
      throw this.summer.malformed(this.field, this.rowLine, MALFORMED.quoteInUnquotedField);
    }
    this.keepPendingCR();
    if (byte === CR) {
      this.pendingCR = true;
    } else {
      this.keep(byte);
      this.rowHasContent = true;
    }
    return false;
  }

  private keep(byte: number): void {
    if (this.collecting) this.cell.push(byte);
  }

  /** The CR before the current byte turned out to be data, not half of a CRLF. */
  private keepPendingCR(): void {
    if (!this.pendingCR) return;
    this.pendingCR = false;
    this.keep(CR);
    this.rowHasContent = true;
  }

  /** Ends the current field at a delimiter, a LF or the end of input; true when the row ended. */
  private endField(terminator: number): boolean {
    if (terminator === LF) this.pendingCR = false;
    else this.keepPendingCR();
    if (this.collecting) this.useCell();
    this.state = FIELD_START;
    if (terminator === this.delimiter) {
      this.rowHasContent = true;
      this.beginField(this.field + 1);
      return false;
    }
    this.endRow();
    if (terminator === LF) this.line++;
    this.rowLine = this.line;
    return true;
  }

  private beginField(field: number): void {
    this.field = field;
    this.collecting = this.summer.isSummedField(field);
    this.cell.clear();
  }

  private useCell(): void {
    const cell = this.cell.view();
    if (this.summer.expectsHeader) {
      this.headerNames.set(this.field, headerName(cell));
      return;
    }
    if (cell.length === 0) return;
    const rejection = this.summer.totals.addBytes(cell, 0, cell.length, this.summer.ordinalOf(this.field));
    if (rejection !== undefined)
      throw this.summer.cellError(rejection, this.field, this.rowLine, utf8Decoder.decode(cell));
  }

  private endRow(): void {
    const fieldCount = this.field + 1;
    if (this.summer.expectsHeader) {
      this.summer.acceptHeader(fieldCount, (field) => this.headerNames.get(field) ?? '');
      this.headerNames.clear();
    } else {
      this.summer.endDataRow(fieldCount, !this.rowHasContent);
    }
    this.rowHasContent = false;
    this.generalScannerOwnsRow = this.summer.expectsHeader;
    this.beginField(0);
  }

  private endOfInput(): void {
    switch (this.state) {
      case FIELD_START:
        // After a row's final LF there is nothing left; after a delimiter, an empty last field.
        if (this.field > 0) this.endField(END_OF_INPUT);
        return;
      case UNQUOTED:
      case QUOTE_IN_QUOTED:
        this.endField(END_OF_INPUT);
        return;
      case QUOTED:
        throw this.summer.malformed(this.field, this.rowLine, MALFORMED.unterminatedQuote);
      case CR_AFTER_QUOTE:
        throw this.closingQuoteError();
    }
  }

  private closingQuoteError(): Error {
    return this.summer.malformed(this.field, this.rowLine, MALFORMED.badClosingQuote);
  }
}

/** Whether this platform stores words little-endian, which the lane arithmetic below assumes;
 * elsewhere the general scanner reads every row. */
const WORD_SCAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
const ONES = 0x01010101;
const HIGH_BITS = 0x80808080;
const LINE_FEED_WORD = Math.imul(LF, ONES);
/** A field index no row reaches: no more summed fields in this row. */
const NOT_SUMMED = -1;

interface AlignedWords {
  /** The chunk's bytes from firstAligned on, as little-endian 32-bit words. */
  words: Uint32Array;
  /** First index of the chunk at a 4-byte-aligned address. */
  firstAligned: number;
}

const NO_WORDS = new Uint32Array(0);

function alignedWords(bytes: Buffer): AlignedWords {
  const firstAligned = (4 - (bytes.byteOffset & 3)) & 3;
  const count = Math.max(0, (bytes.length - firstAligned) >> 2);
  const words =
    count === 0 ? NO_WORDS : new Uint32Array(bytes.buffer, bytes.byteOffset + firstAligned, count);
  return { words, firstAligned };
}

/**
 * Sets the top bit of each byte lane that may hold the delimiter or a LF (the classic
 * "has a zero byte" test on word XOR pattern). It never misses one; a lane just above a match
 * can be flagged too (e.g. "-" after ","), so the caller re-checks the byte.
 */
function delimiterOrLineFeedLanes(word: number, delimiterWord: number): number {
  const delimiterZeros = word ^ delimiterWord;
  const lineFeedZeros = word ^ LINE_FEED_WORD;
  return (
    (((delimiterZeros - ONES) & ~delimiterZeros) | ((lineFeedZeros - ONES) & ~lineFeedZeros)) & HIGH_BITS
  );
}

/** A completely empty line: nothing, or only the CR of a CRLF, between rowStart and its LF. */
function isBlankLine(bytes: Buffer, rowStart: number, lineEnd: number): boolean {
  return lineEnd === rowStart || (lineEnd === rowStart + 1 && bytes[rowStart] === CR);
}
