import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * Writes a CSV with a header and `columns` columns of decimals (signs, up to 6 fraction digits)
 * and returns the exact sums of every 10th column, computed independently with BigInt.
 */
export async function writeCsvFixture(
  path: string,
  rows: number,
  columns = 30,
  seed = 7,
): Promise<{ sums: Map<number, string>; bytes: number }> {
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const scaled = new Map<number, bigint>();
  const out = createWriteStream(path);
  let bytes = 0;
  const write = async (line: string) => {
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await once(out, 'drain');
  };
  await write(Array.from({ length: columns }, (_, i) => `c${i + 1}`).join(',') + '\n');
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 1; c <= columns; c++) {
      const micros = BigInt(Math.floor(random() * 2e9) - 1e9);
      if (c % 10 === 0) scaled.set(c, (scaled.get(c) ?? 0n) + micros);
      const sign = micros < 0n ? '-' : '';
      const abs = micros < 0n ? -micros : micros;
      cells.push(`${sign}${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`);
    }
    await write(cells.join(',') + (r % 3 === 0 ? '\r\n' : '\n'));
  }
  out.end();
  await once(out, 'finish');
  const sums = new Map<number, string>();
  for (const [column, total] of scaled) sums.set(column, formatMicros(total));
  return { sums, bytes };
}

function formatMicros(value: bigint): string {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  const fraction = (abs % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${sign}${abs / 1_000_000n}${fraction ? `.${fraction}` : ''}`;
}
