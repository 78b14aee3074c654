// The DuckDB yardstick for the CSV sum, in the same run as our fast path: the same 3M-row file,
// DuckDB's read_csv on 2 threads summing columns 10, 20 and 30 (as doubles, DuckDB's way),
// against our exact sumCsvStream from local disk. `node bench/csv-duckdb.bench.mjs`
// Needs the file made by `node bench/csv-sum.bench.mjs` and a build (`npx tsc -b`).
import { createReadStream, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FILE = resolve(ROOT, 'bench/.data/csv-sum-3000000x30.csv');
if (!existsSync(FILE))
  throw new Error('run node bench/csv-sum.bench.mjs first: it generates the 3M-row file');
const { sumCsvStream } = await import(resolve(ROOT, 'packages/kind-csv-sum/dist/domain/index.js'));
const RUNS = 3;

async function ours() {
  const startedAt = performance.now();
  const result = await sumCsvStream(createReadStream(FILE, { highWaterMark: 1 << 20 }), { every: 10 });
  return { seconds: (performance.now() - startedAt) / 1000, sums: result.columns.map((c) => c.sum) };
}

const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
const connection = await instance.connect();
const columns = Array.from({ length: 30 }, (_, i) => `'c${i + 1}': 'DOUBLE'`).join(', ');
async function duckdb() {
  const startedAt = performance.now();
  const reader = await connection.runAndReadAll(
    `select sum(c10), sum(c20), sum(c30) from read_csv('${FILE}', header = true, columns = {${columns}})`,
  );
  return { seconds: (performance.now() - startedAt) / 1000, sums: reader.getRows()[0].map(String) };
}

// Interleaved, so both see the same machine.
const timings = { ours: [], duckdb: [] };
let sample;
for (let i = 0; i < RUNS; i++) {
  const a = await ours();
  const b = await duckdb();
  timings.ours.push(a.seconds);
  timings.duckdb.push(b.seconds);
  sample = { ours: a.sums, duckdb: b.sums };
}
const best = (list) => Math.min(...list);
const mb = statSync(FILE).size / 1e6;
console.log(`file: ${FILE} (${mb.toFixed(0)} MB); ${RUNS} interleaved runs each`);
console.log(
  `ours (exact, sumCsvStream, 1 MiB reads): best ${best(timings.ours).toFixed(3)} s [${timings.ours.map((t) => t.toFixed(2)).join(', ')}] → ${(mb / best(timings.ours)).toFixed(0)} MB/s; sums ${sample.ours.join(' ')}`,
);
console.log(
  `DuckDB read_csv, 2 threads (doubles): best ${best(timings.duckdb).toFixed(3)} s [${timings.duckdb.map((t) => t.toFixed(2)).join(', ')}] → ${(mb / best(timings.duckdb)).toFixed(0)} MB/s; sums ${sample.duckdb.join(' ')}`,
);
const ratio = best(timings.ours) / best(timings.duckdb);
console.log(`ours / DuckDB = ${ratio.toFixed(2)} (target ≤ 1.5): ${ratio <= 1.5 ? 'PASS' : 'FAIL'}`);
