// Benchmarks the streaming CSV column summer on one generated file: the bare fast path against
// csv-parse, then the job's real read path (@conveyor/storage's LocalBlobStore and S3BlobStore
// feeding sumCsvStream) from local disk and from an in-process s3rver, each next to awk.
// Usage (build first: npx tsc -b packages/storage services/consumer): node bench/csv-sum.bench.mjs [rows]
// The file (rows × 30 columns, a header, decimals such as -123.456789) is generated once into
// bench/.data/ and uploaded once into a persistent s3rver directory, bench/.data/s3rver/ (a later
// run reuses the object while the file's size and mtime are unchanged). Every timed run of our code
// is a child process, so its peak RSS (VmHWM) is the job's own.
import { spawn, spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCsv } from './gen-csv.mjs';

const SELF = fileURLToPath(import.meta.url);
const SUMMER = new URL('../packages/kind-csv-sum/dist/domain/index.js', import.meta.url);
// The csv-parse reference is a test aid, not part of the deployed consumer's entry point.
const REFERENCE = new URL('../packages/kind-csv-sum/dist/domain/reference-parser.js', import.meta.url);
const STORAGE = new URL('../packages/storage/dist/index.js', import.meta.url);
const DATA_DIR = fileURLToPath(new URL('./.data/', import.meta.url));
const S3RVER_DIR = `${DATA_DIR}s3rver`;
const BUCKET = 'bench';
const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const COLUMNS = 30;
const EVERY = 10;
const READ_CHUNK = 1 << 20;
const FAST_RUNS = 3;
const STORE_RUNS = 3;
const AWK_RUNS = 2;
const REFERENCE_ROWS = 200_000;
const AWK_TOLERANCE = 1e-6; // awk sums in doubles: close, not exact
const RSS_TARGET_MB = 200;

/** Peak resident set of this process so far, in MB (VmHWM, reported in kB). */
function peakRssMB() {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/** CPU time of this whole process (all threads) so far, in seconds. */
function cpuSeconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function sumFile(path, useReference) {
  const sum = useReference ? (await import(REFERENCE)).sumCsvReference : (await import(SUMMER)).sumCsvStream;
  const started = performance.now();
  const result = await sum(createReadStream(path, { highWaterMark: READ_CHUNK }), { every: EVERY });
  return { seconds: (performance.now() - started) / 1000, result };
}

/** Child mode: one timed fast-path run on a plain fs stream. */
async function childRun(path) {
  const run = await sumFile(path, false);
  process.stdout.write(JSON.stringify({ ...run, peakRssMB: peakRssMB(), cpuSeconds: cpuSeconds() }));
}

/**
 * Child mode: one timed run of what the csv-sum worker does (stat, then the store's read()
 * feeding sumCsvStream, with a progress callback throttled like the worker's), through the
 * compiled @conveyor/storage. `spec` is { kind: 'local', root, key } or { kind: 's3', endpoint, bucket, key }.
 */
async function storeChildRun(spec) {
  const { LocalBlobStore, S3BlobStore } = await import(STORAGE);
  const { sumCsvStream } = await import(SUMMER);
  const store =
    spec.kind === 'local'
      ? new LocalBlobStore(spec.root)
      : new S3BlobStore({
          endpoint: spec.endpoint,
          region: 'us-east-1',
          forcePathStyle: true,
          ...S3_CREDENTIALS,
        });
  const location = spec.kind === 'local' ? { key: spec.key } : { bucket: spec.bucket, key: spec.key };
  const started = performance.now();
  const info = await store.stat(location);
  let lastReport = 0;
  let progressReports = 0;
  const source = store.read(location, {
    onProgress: () => {
      const now = Date.now();
      if (now - lastReport < 200) return;
      lastReport = now;
      progressReports++;
    },
  });
  const result = await sumCsvStream(source, { every: EVERY });
  const seconds = (performance.now() - started) / 1000;
  store.destroy?.();
  if (result.bytesRead !== info.size) throw new Error(`read ${result.bytesRead} of ${info.size} bytes`);
  process.stdout.write(
    JSON.stringify({ seconds, result, peakRssMB: peakRssMB(), cpuSeconds: cpuSeconds(), progressReports }),
  );
}

/** Runs this script in child mode without blocking the event loop (the s3rver lives in this process). */
function runChild(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SELF, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => (stdout += data));
    child.stderr.on('data', (data) => (stderr += data));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(JSON.parse(stdout));
      else reject(new Error(`child run ${args.join(' ')} failed (${code}):\n${stderr}`));
    });
  });
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

/** An s3rver in this process (as packages/testkit's startS3Server, but on a persistent directory). */
async function startS3rver() {
  const S3rver = createRequire(new URL('../packages/testkit/package.json', import.meta.url))('s3rver');
  mkdirSync(S3RVER_DIR, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: S3RVER_DIR,
    vhostBuckets: false,
    configureBuckets: [{ name: BUCKET }],
  });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() {
      server.httpServer.closeAllConnections();
      await server.close();
    },
  };
}

/** Uploads the file unless the object already holds this version of it (same size and mtime). */
async function ensureUploaded(endpoint, path, key) {
  const rootRequire = createRequire(new URL('../package.json', import.meta.url));
  const { S3Client, HeadObjectCommand } = rootRequire('@aws-sdk/client-s3');
  const { Upload } = createRequire(new URL('../packages/storage/package.json', import.meta.url))(
    '@aws-sdk/lib-storage',
  );
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: S3_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const { size, mtimeMs } = statSync(path);
  const version = `${size}-${mtimeMs}`;
  try {
    const head = await client
      .send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))
      .catch(() => undefined);
    if (head?.ContentLength === size && head.Metadata?.['source-version'] === version)
      return { uploaded: false };
    const started = performance.now();
    const upload = new Upload({
      client,
      params: {
        Bucket: BUCKET,
        Key: key,
        Body: createReadStream(path, { highWaterMark: READ_CHUNK }),
        Metadata: { 'source-version': version },
      },
      partSize: 16 * 1024 * 1024,
      queueSize: 2,
    });
    await upload.done();
    return { uploaded: true, seconds: (performance.now() - started) / 1000 };
  } finally {
    client.destroy();
  }
}

/** One awk run; through GNU time when it is installed, for awk's own CPU time and peak RSS. */
function runAwk(path) {
  const awk = spawnSyncOk('mawk', ['-W', 'version']) ? 'mawk' : 'awk';
  const timed = existsSync('/usr/bin/time');
  const program = '{a+=$10; b+=$20; c+=$30} END {printf "%.6f %.6f %.6f\\n", a, b, c}';
  const [command, args] = timed
    ? ['/usr/bin/time', ['-f', 'TIME %U %S %M', awk, '-F,', program, path]]
    : [awk, ['-F,', program, path]];
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data) => (stdout += data));
    child.stderr.on('data', (data) => (stderr += data));
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`${awk} failed: ${stderr}`));
      const usage = /^TIME ([\d.]+) ([\d.]+) (\d+)$/m.exec(stderr);
      resolve({
        awk,
        seconds,
        sums: stdout.trim().split(/\s+/).map(Number),
        cpuSeconds: usage ? Number(usage[1]) + Number(usage[2]) : seconds,
        peakRssMB: usage ? Number(usage[3]) / 1024 : undefined,
      });
    });
  });
}

function spawnSyncOk(command, args) {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}

const megabytes = (bytes) => bytes / 1e6;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const sameResult = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const sumCpu = (runs) => runs.reduce((total, run) => total + run.cpuSeconds, 0);
const sameSums = (a, b) =>
  sameResult(a.columns, b.columns) && a.rowsRead === b.rowsRead && a.bytesRead === b.bytesRead;

/**
 * Starts measuring the CPU the rest of the machine uses; the returned function takes the CPU
 * seconds our own children used meanwhile and gives the others' share, in % of one core (this
 * process, which hosts the s3rver, counts as ours).
 */
function othersCpu() {
  const ticks = () => {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return {
      busy: fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7],
      all: fields.reduce((a, b) => a + b, 0),
    };
  };
  const start = ticks();
  const startedAt = performance.now();
  const ownStart = process.cpuUsage();
  return (childCpuSeconds) => {
    const end = ticks();
    const wall = (performance.now() - startedAt) / 1000;
    const machineCpuSeconds =
      ((end.busy - start.busy) / Math.max(1, end.all - start.all)) * availableParallelism() * wall;
    const own = process.cpuUsage(ownStart);
    const ours = childCpuSeconds + (own.user + own.system) / 1e6;
    return Math.max(0, (100 * (machineCpuSeconds - ours)) / wall);
  };
}

function describeRuns(label, runs, size) {
  const best = Math.min(...runs.map((run) => run.seconds));
  const peak = Math.max(...runs.map((run) => run.peakRssMB));
  console.log(
    `${label}: best ${best.toFixed(3)} s, median ${median(runs.map((run) => run.seconds)).toFixed(3)} s of ${runs.length} runs ` +
      `[${runs.map((run) => run.seconds.toFixed(2)).join(', ')}] → ${(megabytes(size) / best).toFixed(0)} MB/s, peak RSS (VmHWM) ${peak.toFixed(0)} MB`,
  );
  return { best, peak };
}

async function main() {
  const rows = Number(process.argv[2] ?? 3_000_000);
  const path = await ensureCsv(rows);
  const size = statSync(path).size;
  console.log(
    `file: ${path} (${megabytes(size).toFixed(1)} MB, ${rows.toLocaleString('en')} rows × ${COLUMNS} columns + header), every ${EVERY}th column`,
  );
  console.log(
    `node ${process.version}, ${process.arch}; machine load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );

  // 1. The bare fast path on an fs stream (the original measurement).
  const fastOthers = othersCpu();
  const fastRuns = [];
  for (let i = 0; i < FAST_RUNS; i++) fastRuns.push(await runChild(['--child', path]));
  const fastBusy = fastOthers(sumCpu(fastRuns));
  const ours = fastRuns[0].result;
  const fast = describeRuns(
    `fast path (sumCsvStream on fs.createReadStream, ${READ_CHUNK >> 20} MiB reads)`,
    fastRuns,
    size,
  );
  console.log(
    `  rowsRead ${ours.rowsRead}, sums: ${ours.columns.map((column) => `${column.name} = ${column.sum}`).join(', ')}`,
  );
  if (!fastRuns.every((run) => sameResult(run.result, ours))) throw new Error('fast path runs disagree');

  // 2. The reference parser on a prefix.
  const referenceRows = Math.min(rows, REFERENCE_ROWS);
  const prefixPath = await ensureCsv(referenceRows);
  const prefixSize = statSync(prefixPath).size;
  const reference = await sumFile(prefixPath, true);
  const fastOnPrefix = await sumFile(prefixPath, false);
  const referenceRate = prefixSize / reference.seconds;
  console.log(
    `reference (csv-parse) on ${referenceRows.toLocaleString('en')} rows: ${reference.seconds.toFixed(2)} s → ${megabytes(referenceRate).toFixed(1)} MB/s, ` +
      `extrapolated to the full file ≈ ${(size / referenceRate).toFixed(1)} s (${(size / referenceRate / fast.best).toFixed(1)}× the fast path)`,
  );
  console.log(
    `  reference result equals the fast path's on that prefix: ${sameResult(reference.result, fastOnPrefix.result) ? 'yes' : 'NO'}`,
  );

  // 3. The job's read path: LocalBlobStore, then S3BlobStore against an in-process s3rver.
  const localSpec = { kind: 'local', root: dirname(path), key: basename(path) };
  const localOthers = othersCpu();
  const localRuns = [];
  for (let i = 0; i < STORE_RUNS; i++)
    localRuns.push(await runChild(['--store-child', JSON.stringify(localSpec)]));
  const local = describeRuns('job path, local disk (LocalBlobStore.read → sumCsvStream)', localRuns, size);
  const localBusy = localOthers(sumCpu(localRuns));

  const s3 = await startS3rver();
  let s3Stats;
  let s3Busy;
  let s3Runs;
  try {
    const key = `csv/${basename(path)}`;
    const upload = await ensureUploaded(s3.endpoint, path, key);
    console.log(
      upload.uploaded
        ? `uploaded to s3rver (${S3RVER_DIR}) in ${upload.seconds.toFixed(1)} s (multipart, 16 MiB parts)`
        : `s3rver (${S3RVER_DIR}) already holds this file: not uploaded again`,
    );
    const s3Spec = { kind: 's3', endpoint: s3.endpoint, bucket: BUCKET, key };
    const s3Others = othersCpu();
    s3Runs = [];
    for (let i = 0; i < STORE_RUNS; i++)
      s3Runs.push(await runChild(['--store-child', JSON.stringify(s3Spec)]));
    s3Busy = s3Others(sumCpu(s3Runs));
    s3Stats = describeRuns(
      'job path, S3 (s3rver in the parent process, S3BlobStore.read → sumCsvStream)',
      s3Runs,
      size,
    );
  } finally {
    await s3.stop();
  }
  const storeResultsAgree = [...localRuns, ...s3Runs].every((run) => sameSums(run.result, ours));
  console.log(
    `  local and S3 results equal the fast path's (every run): ${storeResultsAgree ? 'yes' : 'NO'}`,
  );

  // 4. awk on the same file, in the same run.
  const awkOthers = othersCpu();
  const awkRuns = [];
  for (let i = 0; i < AWK_RUNS; i++) awkRuns.push(await runAwk(path));
  const awkBusy = awkOthers(sumCpu(awkRuns));
  const awk = awkRuns.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  console.log(
    `${awk.awk} -F, summing $10, $20, $30 on the same file: best ${awk.seconds.toFixed(3)} s of ${AWK_RUNS} [${awkRuns.map((run) => run.seconds.toFixed(2)).join(', ')}] ` +
      `→ ${(megabytes(size) / awk.seconds).toFixed(0)} MB/s`,
  );
  const deviations = ours.columns.map(
    (column, i) => Math.abs(awk.sums[i] - Number(column.sum)) / Math.max(1, Math.abs(Number(column.sum))),
  );
  const agree = deviations.length === 3 && deviations.every((deviation) => deviation <= AWK_TOLERANCE);
  console.log(
    `  awk's floating sums [${awk.sums.join(', ')}] agree within ${AWK_TOLERANCE} relative: ${agree ? 'yes' : 'NO'} (max ${Math.max(...deviations).toExponential(1)})`,
  );

  // 5. Summary.
  const row = (name, seconds, peak, note = '') =>
    `| ${name.padEnd(46)} | ${seconds.toFixed(2).padStart(6)} | ${(megabytes(size) / seconds).toFixed(0).padStart(5)} | ${peak === undefined ? '—'.padStart(6) : peak.toFixed(0).padStart(6)} | ${(seconds / awk.seconds).toFixed(2).padStart(8)} | ${note}`;
  console.log('');
  console.log(
    `| ${'path (same file, same run)'.padEnd(46)} |      s |  MB/s | RSS MB | s vs awk | others' CPU`,
  );
  console.log(`| ${'-'.repeat(46)} | -----: | ----: | -----: | -------: | ---`);
  console.log(
    row('sumCsvStream on fs.createReadStream', fast.best, fast.peak, `${fastBusy.toFixed(0)} % of a core`),
  );
  console.log(
    row(
      'job path: LocalBlobStore → sumCsvStream',
      local.best,
      local.peak,
      `${localBusy.toFixed(0)} % of a core`,
    ),
  );
  console.log(
    row(
      'job path: S3BlobStore (s3rver) → sumCsvStream',
      s3Stats.best,
      s3Stats.peak,
      `${s3Busy.toFixed(0)} % of a core`,
    ),
  );
  console.log(
    row(
      `${awk.awk} -F,`,
      awk.seconds,
      Math.max(...awkRuns.map((run) => run.peakRssMB ?? 0)) || undefined,
      `${awkBusy.toFixed(0)} % of a core`,
    ),
  );
  console.log('');
  const localBeatsAwk = local.best < awk.seconds;
  const rssOk = Math.max(local.peak, s3Stats.peak) < RSS_TARGET_MB;
  console.log(
    `target: beats awk from local disk — ${localBeatsAwk ? 'PASS' : 'FAIL'} (${(awk.seconds / local.best).toFixed(2)}× awk's speed)`,
  );
  console.log(
    `target: under ${RSS_TARGET_MB} MB RSS — ${rssOk ? 'PASS' : 'FAIL'} (local ${local.peak.toFixed(0)} MB, S3 ${s3Stats.peak.toFixed(0)} MB)`,
  );
  console.log(`S3 vs awk from local disk: ${(awk.seconds / s3Stats.best).toFixed(2)}× awk's speed`);
  if (!agree || !storeResultsAgree || !localBeatsAwk || !rssOk) process.exitCode = 1;
}

if (process.argv[2] === '--child') await childRun(process.argv[3]);
else if (process.argv[2] === '--store-child') await storeChildRun(JSON.parse(process.argv[3]));
else await main();
