// Writes a benchmark CSV: a header row, then `rows` rows of `columns` numbers, a mix of
// integers and decimals such as -123.456789. Deterministic (seeded), so a cached file is
// reproducible. Usage: node bench/gen-csv.mjs <rows> <file> [columns]
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { pathToFileURL } from 'node:url';

const ROWS_PER_WRITE = 20_000;

/** mulberry32: small, fast and good enough for test data. */
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeCell(next) {
  const sign = next() < 0.3 ? '-' : '';
  if (next() < 0.4) return sign + Math.floor(next() * 100_000);
  const fractionDigits = 1 + Math.floor(next() * 6);
  const fraction = String(Math.floor(next() * 10 ** fractionDigits)).padStart(fractionDigits, '0');
  return `${sign}${Math.floor(next() * 10_000)}.${fraction}`;
}

export async function generateCsv({ rows, file, columns = 30, seed = 20240611 }) {
  const next = random(seed);
  const out = createWriteStream(file);
  const header = Array.from({ length: columns }, (_, i) => `c${i + 1}`).join(',');
  out.write(`${header}\n`);
  const cells = new Array(columns);
  for (let written = 0; written < rows;) {
    const batch = Math.min(ROWS_PER_WRITE, rows - written);
    let text = '';
    for (let r = 0; r < batch; r++) {
      for (let c = 0; c < columns; c++) cells[c] = makeCell(next);
      text += `${cells.join(',')}\n`;
    }
    written += batch;
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [rows, file, columns] = process.argv.slice(2);
  if (!rows || !file) {
    console.error('usage: node bench/gen-csv.mjs <rows> <file> [columns]');
    process.exit(2);
  }
  await generateCsv({ rows: Number(rows), file, columns: columns ? Number(columns) : 30 });
}
