// Benchmarks the streaming CSV column summer against csv-parse and awk on one generated file.
// Usage (build first: npx tsc -b services/consumer): node bench/csv-sum.bench.mjs [rows]
// The file (rows × 30 columns, a header, decimals such as -123.456789) is generated once into
// bench/.data/. Our fast path runs in child processes so that its peak RSS is its own.
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateCsv } from './gen-csv.mjs';

const SUMMER = new URL('../services/consumer/dist/domain/csv-sum/index.js', import.meta.url);
const DATA_DIR = fileURLToPath(new URL('./.data/', import.meta.url));
const COLUMNS = 30;
const EVERY = 10;
const READ_CHUNK = 1 << 20;
const FAST_RUNS = 3;
const REFERENCE_ROWS = 200_000;
const AWK_TOLERANCE = 1e-6; // awk sums in doubles: close, not exact

async function sumFile(path, useReference) {
  const { sumCsvStream, sumCsvReference } = await import(SUMMER);
  const sum = useReference ? sumCsvReference : sumCsvStream;
  const started = performance.now();
  const result = await sum(createReadStream(path, { highWaterMark: READ_CHUNK }), { every: EVERY });
  return { seconds: (performance.now() - started) / 1000, result };
}

/** Child mode: one timed fast-path run; reports its own peak RSS (maxRSS is in KiB). */
async function childRun(path) {
  const run = await sumFile(path, false);
  process.stdout.write(JSON.stringify({ ...run, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
}

function runFastPathInChild(path) {
  const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', path], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`fast path run failed:\n${child.stderr}`);
  return JSON.parse(child.stdout);
}

async function ensureCsv(rows) {
  const path = `${DATA_DIR}csv-sum-${rows}x${COLUMNS}.csv`;
  if (!existsSync(path)) {
    mkdirSync(DATA_DIR, { recursive: true });
    process.stdout.write(`generating ${path} … `);
    const started = performance.now();
    await generateCsv({ rows, file: path, columns: COLUMNS });
    console.log(`${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return path;
}

function runAwk(path) {
  const awk = spawnSync('mawk', ['-W', 'version']).status === 0 ? 'mawk' : 'awk';
  const program = '{a+=$10; b+=$20; c+=$30} END {printf "%.6f %.6f %.6f\\n", a, b, c}';
  const started = performance.now();
  const run = spawnSync(awk, ['-F,', program, path], { encoding: 'utf8' });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`${awk} failed: ${run.stderr}`);
  return { awk, seconds, sums: run.stdout.trim().split(/\s+/).map(Number) };
}

const megabytes = (bytes) => bytes / 1e6;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const sameResult = (a, b) => JSON.stringify(a) === JSON.stringify(b);

async function main() {
  const rows = Number(process.argv[2] ?? 3_000_000);
  const path = await ensureCsv(rows);
  const size = statSync(path).size;
  console.log(`file: ${path} (${megabytes(size).toFixed(1)} MB, ${rows.toLocaleString('en')} rows × ${COLUMNS} columns + header), every ${EVERY}th column`);

  const fastRuns = Array.from({ length: FAST_RUNS }, () => runFastPathInChild(path));
  const best = Math.min(...fastRuns.map((run) => run.seconds));
  const ours = fastRuns[0].result;
  console.log(
    `fast path (sumCsvStream, ${READ_CHUNK >> 20} MiB reads): best ${best.toFixed(3)} s, median ${median(fastRuns.map((run) => run.seconds)).toFixed(3)} s ` +
      `of ${FAST_RUNS} runs [${fastRuns.map((run) => run.seconds.toFixed(2)).join(', ')}] → ${(megabytes(size) / best).toFixed(0)} MB/s, ` +
      `peak RSS ${Math.max(...fastRuns.map((run) => run.peakRssMB)).toFixed(0)} MB`,
  );
  console.log(`  rowsRead ${ours.rowsRead}, sums: ${ours.columns.map((column) => `${column.name} = ${column.sum}`).join(', ')}`);
  if (!fastRuns.every((run) => sameResult(run.result, ours))) throw new Error('fast path runs disagree');

  const referenceRows = Math.min(rows, REFERENCE_ROWS);
  const prefixPath = await ensureCsv(referenceRows);
  const prefixSize = statSync(prefixPath).size;
  const reference = await sumFile(prefixPath, true);
  const fastOnPrefix = await sumFile(prefixPath, false);
  const referenceRate = prefixSize / reference.seconds;
  console.log(
    `reference (csv-parse) on ${referenceRows.toLocaleString('en')} rows: ${reference.seconds.toFixed(2)} s → ${megabytes(referenceRate).toFixed(1)} MB/s, ` +
      `extrapolated to the full file ≈ ${(size / referenceRate).toFixed(1)} s (${(size / referenceRate / best).toFixed(1)}× the fast path)`,
  );
  console.log(`  reference result equals the fast path's on that prefix: ${sameResult(reference.result, fastOnPrefix.result) ? 'yes' : 'NO'}`);

  const awk = runAwk(path);
  console.log(`${awk.awk} -F, summing $10, $20, $30 on the same file: ${awk.seconds.toFixed(3)} s → ours/awk = ${(best / awk.seconds).toFixed(2)}`);
  const deviations = ours.columns.map((column, i) => Math.abs(awk.sums[i] - Number(column.sum)) / Math.max(1, Math.abs(Number(column.sum))));
  const agree = deviations.length === 3 && deviations.every((deviation) => deviation <= AWK_TOLERANCE);
  console.log(`  awk's floating sums [${awk.sums.join(', ')}] agree within ${AWK_TOLERANCE} relative: ${agree ? 'yes' : 'NO'} (max ${Math.max(...deviations).toExponential(1)})`);
  if (!agree) process.exitCode = 1;
}

if (process.argv[2] === '--child') await childRun(process.argv[3]);
else await main();
