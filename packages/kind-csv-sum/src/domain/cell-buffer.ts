/** The bytes of one cell that may arrive split over several chunks; keeps at most `capacity`
 * bytes (enough to tell that a cell is too long to be a number, or to cut a header name). */
export class CellBuffer {
  // A Buffer, like the chunks, so the number parser sees a single element type.
  private readonly bytes: Buffer;
  private length = 0;

  constructor(capacity: number) {
    this.bytes = Buffer.alloc(capacity);
  }

  clear(): void {
    this.length = 0;
  }

  push(byte: number): void {
    if (this.length < this.bytes.length) this.bytes[this.length++] = byte;
  }

  view(): Buffer {
    return this.bytes.subarray(0, this.length);
  }
}
