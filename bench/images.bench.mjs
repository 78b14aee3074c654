// Benchmark: image-resize jobs end to end (upload → result ready) against bare sharp.
//
//   cd /work/main && npx tsc -b services/producer services/consumer && node bench/images.bench.mjs
//
// Options: --concurrency 2,4     IMAGE_CONCURRENCY of the consumer runs (SHARP_THREADS=1 always)
//          --images N            images per pipeline run (default: the bare sharp rate × 6 s, 100..1500)
//          --bare-seconds S      length of each bare sharp measurement (default 10)
//          --clients C           concurrent keep-alive upload clients (default 4)
//          --max-seconds S       bound of one pipeline run, from its first upload (default 90)
//
// Cases: a 1920×1080 photo-like JPEG (bench/.data, from sharp-baseline.mjs) resized to 100×100 and
// to 800×600, cover, JPEG out with mozjpeg (the job's encoder, see
// services/consumer/src/domain/image/output-format.ts).
//
// Phases:
//   0. Upload memory: producer alone, 8 clients upload a 20 MB file (the 4000×3000 photo padded
//      with junk after its end; the format is sniffed from the first bytes) 24 times. The
//      producer's peak RSS (VmHWM of /proc/<pid>/status, reset through /proc/<pid>/clear_refs)
//      against the 160 MB in flight shows whether uploads are streamed to storage.
//   1. Per case: bare sharp in this process (measureBareSharp, 4 in flight, sharp.concurrency(1)
//      and cache off like the consumer), then per IMAGE_CONCURRENCY a fresh consumer process, a
//      warm-up, and N uploads from C clients as fast as they go. Completion is read from the jobs
//      table every 200 ms; images/s = N / (first upload → last finished_at). Evidence per run: CPU
//      per process from /proc (ms of CPU per image, next to bare sharp's), the producer's and
//      consumer's peak RSS, the consumer's /metrics (delivery → ack), the jobs' own timestamps
//      (queue wait, started → finished), PostgreSQL commits / WAL syncs / row writes and the job
//      events published per image.
//
// Everything runs in its own corner: AMQP prefix bench.<random>, schema bench_<random>, STORAGE_ROOT
// a temporary folder; all deleted at the end, every child process killed, on error and Ctrl-C too.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { argument, numberList } from './lib/args.mjs';
import { freePort } from './lib/http.mjs';
import { metricSum } from './lib/metrics.mjs';
import { fmt, log, printTable } from './lib/output.mjs';
import { percentile } from './lib/stats.mjs';
import { measureBareSharp, readBenchJpeg } from './sharp-baseline.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const requireFromTestkit = createRequire(resolve(ROOT, 'packages/testkit/package.json'));
const amqp = requireFromTestkit('amqplib');
const pg = requireFromTestkit('pg');

// ---------------------------------------------------------------------------------------------
// Settings



const CONCURRENCIES = numberList('concurrency', [2, 4], { integers: true });
const FIXED_IMAGES = argument('images') === undefined ? undefined : numberList('images', [], { integers: true })[0];
const BARE_SECONDS = numberList('bare-seconds', [10], { integers: true })[0];
const CLIENTS = numberList('clients', [4], { integers: true })[0];
const MAX_SECONDS = numberList('max-seconds', [90], { integers: true })[0];
const SHARP_THREADS = 1;
const BARE_IN_FLIGHT = 4;
const POLL_MS = 200;
const TARGET_RATIO = 0.8;
const CASES = [
  { name: '1080p → 100×100', width: 100, height: 100 },
  { name: '1080p → 800×600', width: 800, height: 600 },
];
const MEMORY_PHASE = { fileBytes: 20 * 1024 * 1024, clients: 8, uploads: 24 };

const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RUN_ID = randomBytes(4).toString('hex');
const PREFIX = `bench.${RUN_ID}`;
const SCHEMA = `bench_${RUN_ID}`;
const STORAGE_ROOT = mkdtempSync(join(tmpdir(), `images-bench-${RUN_ID}-`));
const RETRY_DELAYS_MS = [1000, 5000, 30000, 120000, 600000];
const NAMES = {
  imageQueue: `${PREFIX}.job.image-resize`,
  workQueues: ['object.check', 'job.factorize', 'job.csv-sum', 'job.image-resize'].map((kind) => `${PREFIX}.${kind}`),
  deadLetterQueue: `${PREFIX}.dead-letter`,
  jobEventsQueue: `${PREFIX}.job-events`,
  retryQueues: RETRY_DELAYS_MS.map((ms) => `${PREFIX}.retry.${ms}ms`),
  exchanges: ['work', 'retry', 'dlx', 'events'].map((suffix) => `${PREFIX}.${suffix}`),
};
const ALL_QUEUES = [...NAMES.workQueues, NAMES.deadLetterQueue, NAMES.jobEventsQueue, ...NAMES.retryQueues];

const mib = (bytes) => `${fmt(bytes / 1024 / 1024, 0)} MiB`;

// ---------------------------------------------------------------------------------------------
// Child processes

const children = new Set();

function startService(service, env) {
  const child = spawn(process.execPath, [resolve(ROOT, 'services', service, 'dist/main.js')], {
    cwd: ROOT,
    // The services read .env in the cwd as defaults; every variable that matters is set here and wins.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DATABASE_URL,
      DATABASE_SCHEMA: SCHEMA,
      AMQP_URL,
      AMQP_PREFIX: PREFIX,
      RETRY_DELAYS_MS: RETRY_DELAYS_MS.join(','),
      STORAGE_ROOT,
      IMAGE_STORE: 'local',
      IMAGE_BUCKET: 'images',
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const handle = { service, child, pid: child.pid, lines: [], warnings: 0, errors: 0, exited: once(child, 'exit') };
  const collect = (chunk) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      if (/"level":"warn"/.test(line)) handle.warnings += 1;
      if (/"level":"error"/.test(line)) handle.errors += 1;
      handle.lines.push(line);
      if (handle.lines.length > 200) handle.lines.shift();
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  children.add(handle);
  child.once('exit', () => children.delete(handle));
  return handle;
}

async function stopService(handle) {
  if (handle.child.exitCode !== null || handle.child.signalCode !== null) return;
  handle.child.kill('SIGTERM');
  const stopped = await Promise.race([handle.exited.then(() => true), sleep(15_000).then(() => false)]);
  if (!stopped) {
    handle.child.kill('SIGKILL');
    await handle.exited;
  }
}

function assertAlive(handle) {
  if (handle.child.exitCode !== null || handle.child.signalCode !== null) {
    throw new Error(`${handle.service} exited (${handle.child.exitCode ?? handle.child.signalCode}):\n${handle.lines.slice(-20).join('\n')}`);
  }
}

// Last resort: a synchronous SIGKILL of whatever is left when this process exits.
process.on('exit', () => {
  for (const handle of children) handle.child.kill('SIGKILL');
  rmSync(STORAGE_ROOT, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Memory from /proc

function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false if not allowed, and the peak then covers the process's life. */
function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP


function request(agent, port, method, path, { body, headers = {}, timeoutMs = 30_000, binary = false } = {}) {
  return new Promise((resolveResponse, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: body ? { 'content-length': body.length, ...headers } : headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolveResponse({ status: res.statusCode, body: binary ? data : data.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
    req.end(body);
  });
}

const opsAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });

async function waitForStatus(handle, port, path, wanted, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    assertAlive(handle);
    try {
      const { status } = await request(opsAgent, port, 'GET', path, { timeoutMs: 2_000 });
      if (status === wanted) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${handle.service} did not answer ${wanted} on ${path} within ${timeoutMs} ms:\n${handle.lines.slice(-20).join('\n')}`);
    await sleep(100);
  }
}


async function scrape(port) {
  try {
    const { status, body } = await request(opsAgent, port, 'GET', '/metrics', { timeoutMs: 5_000 });
    return status === 200 ? body : '';
  } catch {
    return '';
  }
}


/** A multipart/form-data body built once and sent as is (no per-request encoding cost in the bench). */
function multipartBody(file, fields, fileName = 'photo.jpg') {
  const boundary = `----bench${randomBytes(8).toString('hex')}`;
  const parts = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${fileName}"\r\ncontent-type: image/jpeg\r\n\r\n`));
  parts.push(file, Buffer.from(`\r\n--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** `count` uploads from `clients` keep-alive clients, back to back; collects the job ids and latencies. */
async function uploadAll(port, form, count, clients) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const ids = [];
  const latencies = [];
  let next = 0;
  let failures = 0;
  let firstFailure;
  const startedAtEpoch = Date.now();
  const started = performance.now();
  const deadline = started + MAX_SECONDS * 1000;
  async function client() {
    while (next < count && performance.now() < deadline) {
      next += 1;
      const t0 = performance.now();
      try {
        const { status, body } = await request(agent, port, 'POST', '/v1/images', { body: form.body, headers: { 'content-type': form.contentType } });
        latencies.push(performance.now() - t0);
        if (status === 202) ids.push(JSON.parse(body).id);
        else {
          failures += 1;
          firstFailure ??= `HTTP ${status}: ${body.slice(0, 200)}`;
        }
      } catch (error) {
        failures += 1;
        firstFailure ??= error.message;
      }
    }
  }
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { ids, accepted: ids.length, failures, firstFailure, startedAtEpoch, seconds, rate: ids.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc (utime + stime of every thread of a process)

const CLOCK_TICKS = 100; // USER_HZ on Linux
const CPU_COUNT = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length;

function processTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** CPU ticks of a process's threads, grouped: `main` (the event loop), else the thread's name without its number. */
function threadTicks(pid) {
  const groups = new Map();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const group = Number(tid) === pid ? 'main' : comm.replace(/[\s\d_-]+$/, '') || comm;
        groups.set(group, (groups.get(group) ?? 0) + Number(fields[11]) + Number(fields[12]));
      } catch {
        // thread gone
      }
    }
  } catch {
    // process gone
  }
  return groups;
}

/** CPU ms per thread group between two threadTicks() (threads that ended in between are lost, so this is a lower bound). */
function threadDelta(before, after) {
  const ms = {};
  for (const [group, ticks] of after) ms[group] = (1000 * (ticks - (before.get(group) ?? 0))) / CLOCK_TICKS;
  return ms;
}

function pidsByName(names) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found;
}

function systemTicks() {
  const values = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { total: values.reduce((a, b) => a + b, 0), idle: values[3] + values[4], irq: values[5] + values[6] };
}

/** Per group: `percent` (of one core over the window) and `ms` (CPU milliseconds); plus irq, machine and others (everyone else). */
function cpuSnapshot(groups) {
  const at = performance.now();
  const ticks = Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, new Map(pids().map((pid) => [pid, processTicks(pid) ?? 0]))]));
  const system = systemTicks();
  return {
    at,
    ticks,
    system,
    since(earlier) {
      const seconds = (at - earlier.at) / 1000;
      const percent = {};
      const ms = {};
      for (const [name, now] of Object.entries(ticks)) {
        let delta = 0;
        for (const [pid, value] of now) delta += value - (earlier.ticks[name].get(pid) ?? 0);
        ms[name] = (1000 * delta) / CLOCK_TICKS;
        percent[name] = (100 * delta) / CLOCK_TICKS / seconds;
      }
      const totalDelta = system.total - earlier.system.total;
      const share = (d) => (totalDelta > 0 ? ((100 * d) / totalDelta) * CPU_COUNT : 0);
      const ours = Object.values(percent).reduce((a, b) => a + b, 0);
      percent.irq = share(system.irq - earlier.system.irq);
      percent.machine = share(system.total - system.idle - (earlier.system.total - earlier.system.idle));
      percent.others = Math.max(0, percent.machine - ours - percent.irq);
      for (const name of ['irq', 'machine', 'others']) ms[name] = (percent[name] / 100) * seconds * 1000;
      return { percent, ms, seconds };
    },
  };
}

function cpuGroups(services) {
  return {
    bench: () => [process.pid],
    ...Object.fromEntries(Object.entries(services).map(([name, handle]) => [name, () => [handle.pid]])),
    postgres: () => pidsByName(['postgres']),
    rabbitmq: () => pidsByName(['beam.smp']),
  };
}

const formatCpu = (percent) => Object.entries(percent).map(([name, value]) => `${name} ${value.toFixed(0)}%`).join(', ');

// ---------------------------------------------------------------------------------------------
// PostgreSQL counters (the whole cluster for commits and WAL; this schema for row writes)

async function pgCounters(db) {
  const [database] = (await db.query(`select xact_commit::bigint as commits from pg_stat_database where datname = current_database()`)).rows;
  const [wal] = (await db.query(`select wal_records::bigint as records, wal_bytes::bigint as bytes, wal_sync::bigint as syncs from pg_stat_wal`)).rows;
  const tables = (
    await db.query(`select relname, n_tup_ins::bigint as ins, n_tup_upd::bigint as upd, n_tup_del::bigint as del from pg_stat_user_tables where schemaname = $1`, [SCHEMA])
  ).rows;
  const rows = {};
  for (const t of tables) rows[t.relname] = { ins: Number(t.ins), upd: Number(t.upd), del: Number(t.del) };
  return { commits: Number(database.commits), walRecords: Number(wal.records), walBytes: Number(wal.bytes), walSyncs: Number(wal.syncs), rows };
}

function pgDelta(before, after) {
  const rows = {};
  for (const [name, now] of Object.entries(after.rows)) {
    const was = before.rows[name] ?? { ins: 0, upd: 0, del: 0 };
    rows[name] = { ins: now.ins - was.ins, upd: now.upd - was.upd, del: now.del - was.del };
  }
  return {
    commits: after.commits - before.commits,
    walRecords: after.walRecords - before.walRecords,
    walBytes: after.walBytes - before.walBytes,
    walSyncs: after.walSyncs - before.walSyncs,
    rows,
  };
}

// ---------------------------------------------------------------------------------------------
// Output


// ---------------------------------------------------------------------------------------------
// Between runs

async function waitForEmptyOutbox(db, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query(`select count(*)::int as n from "${SCHEMA}".outbox`);
    if (rows[0].n === 0 || Date.now() > deadline) return rows[0].n;
    await sleep(100);
  }
}

/** Empties the queues, the job tables and the stored images (originals and results). */
async function reset(db, channel) {
  for (const queue of ALL_QUEUES) await channel.purgeQueue(queue).catch(() => undefined);
  await db.query(`truncate "${SCHEMA}".job_events, "${SCHEMA}".outbox, "${SCHEMA}".jobs cascade`);
  for (const folder of ['originals', 'results']) rmSync(join(STORAGE_ROOT, 'images', folder), { recursive: true, force: true });
}

async function finishedCounts(db) {
  const { rows } = await db.query(
    `select count(*) filter (where status = 'succeeded')::int as succeeded,
            count(*) filter (where status in ('failed', 'cancelled'))::int as failed,
            count(*) filter (where status in ('queued', 'running'))::int as other
       from "${SCHEMA}".jobs`,
  );
  return rows[0];
}

// ---------------------------------------------------------------------------------------------
// Phase 0: upload memory

async function uploadMemory(producer, producerPort, db, channel) {
  const photo = await readBenchJpeg(4000, 3000);
  const padded = Buffer.concat([photo, Buffer.alloc(MEMORY_PHASE.fileBytes - photo.length, 0x5a)]);
  const form = multipartBody(padded, { width: '100', height: '100', format: 'jpeg' }, 'padded.jpg');
  const before = memoryOf(producer.pid);
  const reset_ = resetPeak(producer.pid);
  const groups = cpuGroups({ producer });
  const cpuBefore = cpuSnapshot(groups);
  const result = await uploadAll(producerPort, form, MEMORY_PHASE.uploads, MEMORY_PHASE.clients);
  const cpu = cpuSnapshot(groups).since(cpuBefore);
  const after = memoryOf(producer.pid);
  assertAlive(producer);
  await waitForEmptyOutbox(db);
  await reset(db, channel);
  return { ...result, before, after, peakReset: reset_, cpu, inFlightBytes: MEMORY_PHASE.clients * padded.length, fileBytes: padded.length };
}

// ---------------------------------------------------------------------------------------------
// Phase 1: bare sharp, then the pipeline

async function bare(input, testCase) {
  const groups = cpuGroups({});
  const cpuBefore = cpuSnapshot(groups);
  const run = await measureBareSharp({ input, width: testCase.width, height: testCase.height, inFlight: BARE_IN_FLIGHT, seconds: BARE_SECONDS, jpeg: { mozjpeg: true } });
  const cpu = cpuSnapshot(groups).since(cpuBefore);
  return { ...run, cpu };
}

async function pipelineRun({ producer, producerPort, db, channel, input, testCase, concurrency, images }) {
  const opsPort = await freePort();
  const consumer = startService('consumer', { OPS_PORT: String(opsPort), IMAGE_CONCURRENCY: String(concurrency), SHARP_THREADS: String(SHARP_THREADS) });
  const form = multipartBody(input, { width: String(testCase.width), height: String(testCase.height), fit: 'cover', format: 'jpeg' });
  try {
    await waitForStatus(consumer, opsPort, '/readyz', 200);
    for (let i = 0; (await channel.checkQueue(NAMES.imageQueue)).consumerCount === 0; i += 1) {
      if (i > 100) throw new Error('the consumer never subscribed to the image-resize queue');
      await sleep(100);
    }
    // Warm-up (JIT, pools, first sharp calls), then wiped.
    const warm = await uploadAll(producerPort, form, Math.max(8, 2 * concurrency), CLIENTS);
    const warmDeadline = Date.now() + 60_000;
    while ((await finishedCounts(db)).other > 0 && Date.now() < warmDeadline) await sleep(POLL_MS);
    if (warm.failures > 0) throw new Error(`warm-up uploads failed: ${warm.firstFailure}`);
    await waitForEmptyOutbox(db);
    await reset(db, channel);

    const groups = cpuGroups({ producer, consumer });
    const metricsBefore = await scrape(opsPort);
    const pgBefore = await pgCounters(db);
    const peakReset = resetPeak(producer.pid) && resetPeak(consumer.pid);
    const rssBefore = { producer: memoryOf(producer.pid), consumer: memoryOf(consumer.pid) };
    const threadsBefore = { producer: threadTicks(producer.pid), consumer: threadTicks(consumer.pid) };
    const cpuBefore = cpuSnapshot(groups);

    let finished = { succeeded: 0, failed: 0, other: 0 };
    let polling = true;
    let loopP99Max = 0;
    const poller = (async () => {
      let tick = 0;
      while (polling) {
        finished = await finishedCounts(db);
        if (tick % 5 === 0) loopP99Max = Math.max(loopP99Max, metricSum(await scrape(opsPort), 'conveyor_event_loop_delay_p99_seconds'));
        tick += 1;
        await sleep(POLL_MS);
      }
    })();

    const upload = await uploadAll(producerPort, form, images, CLIENTS);
    const producerPeakDuringUploads = memoryOf(producer.pid).peak;
    const cpuUploads = cpuSnapshot(groups).since(cpuBefore);
    const deadline = upload.startedAtEpoch + MAX_SECONDS * 1000;
    while (finished.succeeded + finished.failed < upload.accepted && Date.now() < deadline) {
      assertAlive(consumer);
      await sleep(POLL_MS);
    }
    const cpu = cpuSnapshot(groups).since(cpuBefore);
    const threads = { producer: threadDelta(threadsBefore.producer, threadTicks(producer.pid)), consumer: threadDelta(threadsBefore.consumer, threadTicks(consumer.pid)) };
    polling = false;
    await poller;
    const metricsAfter = await scrape(opsPort);
    const consumerPeak = memoryOf(consumer.pid).peak;

    const { rows } = await db.query(
      `select id, extract(epoch from created_at) * 1000 as created, extract(epoch from started_at) * 1000 as started,
              extract(epoch from finished_at) * 1000 as finished, attempts
         from "${SCHEMA}".jobs where status = 'succeeded' order by finished_at`,
    );
    const finishes = rows.map((r) => Number(r.finished));
    const lastFinish = finishes.at(-1) ?? NaN;
    const elapsedSeconds = (lastFinish - upload.startedAtEpoch) / 1000;
    const at = (fraction) => finishes[Math.min(finishes.length - 1, Math.floor(fraction * finishes.length))];
    const steadyRate = finishes.length > 10 ? (0.6 * finishes.length) / ((at(0.8) - at(0.2)) / 1000) : NaN;
    const sorted = (values) => values.sort((a, b) => a - b);
    const latencies = sorted(rows.map((r) => Number(r.finished) - Number(r.created)));
    const runTimes = sorted(rows.map((r) => Number(r.finished) - Number(r.started)));
    const queueWaits = sorted(rows.map((r) => Number(r.started) - Number(r.created)));
    const mean = (values) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

    const label = `queue="${NAMES.imageQueue}"`;
    const delta = (name) => metricSum(metricsAfter, name, label) - metricSum(metricsBefore, name, label);
    const processed = delta('conveyor_message_processing_seconds_count');
    const deliveryToAckMs = (1000 * delta('conveyor_message_processing_seconds_sum')) / Math.max(1, processed);

    // A few results downloaded and decoded: the right size, and really JPEG.
    let verified = 0;
    for (const row of rows.slice(0, 3)) {
      const { status, body } = await request(opsAgent, producerPort, 'GET', `/v1/jobs/${row.id}/result`, { binary: true });
      const meta = status === 200 ? await sharp(body).metadata() : {};
      if (meta.format === 'jpeg' && meta.width === testCase.width && meta.height === testCase.height) verified += 1;
    }

    await waitForEmptyOutbox(db);
    await sleep(1000); // let the backends flush their table statistics
    const pgUse = pgDelta(pgBefore, await pgCounters(db));
    const events = (await channel.checkQueue(NAMES.jobEventsQueue)).messageCount;
    let retried = 0;
    for (const queue of NAMES.retryQueues) retried += (await channel.checkQueue(queue)).messageCount;
    const deadLettered = (await channel.checkQueue(NAMES.deadLetterQueue)).messageCount;

    return {
      testCase,
      concurrency,
      images,
      upload,
      succeeded: rows.length,
      failed: finished.failed,
      complete: rows.length === images && upload.accepted === images,
      imagesPerSecond: rows.length / elapsedSeconds,
      elapsedSeconds,
      steadyRate,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      queueWaitP50: percentile(queueWaits, 50),
      runMean: mean(runTimes),
      runP50: percentile(runTimes, 50),
      deliveryToAckMs,
      processed,
      extraAttempts: rows.reduce((n, r) => n + (r.attempts - 1), 0),
      cpu,
      cpuUploads,
      threads,
      memory: { peakReset, rssBefore, producerPeakDuringUploads, consumerPeak },
      loopP99Max,
      pg: pgUse,
      events,
      retried,
      deadLettered,
      verified,
      logs: `${consumer.warnings}/${consumer.errors}`,
    };
  } finally {
    await stopService(consumer);
    await reset(db, channel).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Clean-up

let cleanedUp;
function cleanUp() {
  return (cleanedUp ??= (async () => {
    await Promise.all([...children].map((handle) => stopService(handle).catch(() => undefined)));
    try {
      const connection = await amqp.connect(AMQP_URL);
      for (const queue of ALL_QUEUES) {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        await channel.deleteQueue(queue).catch(() => undefined);
        await channel.close().catch(() => undefined);
      }
      for (const exchange of NAMES.exchanges) {
        const channel = await connection.createChannel();
        channel.on('error', () => undefined);
        await channel.deleteExchange(exchange).catch(() => undefined);
        await channel.close().catch(() => undefined);
      }
      await connection.close();
    } catch (error) {
      console.error(`could not delete the broker names under ${PREFIX}: ${error.message}`);
    }
    try {
      const client = new pg.Client({ connectionString: DATABASE_URL });
      await client.connect();
      await client.query(`drop schema if exists "${SCHEMA}" cascade`);
      await client.end();
    } catch (error) {
      console.error(`could not drop schema ${SCHEMA}: ${error.message}`);
    }
    rmSync(STORAGE_ROOT, { recursive: true, force: true });
  })());
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the services and cleaning up...`);
    cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  for (const service of ['producer', 'consumer']) {
    try {
      readFileSync(resolve(ROOT, 'services', service, 'dist/main.js'));
    } catch {
      throw new Error(`services/${service}/dist/main.js is missing: build first (npx tsc -b services/producer services/consumer)`);
    }
  }
  // The bare loop runs like the consumer's resizes: one libvips thread per image, no operation cache.
  sharp.concurrency(SHARP_THREADS);
  sharp.cache(false);
  console.log(
    `Image-resize benchmark — prefix ${PREFIX}, schema ${SCHEMA}, STORAGE_ROOT ${STORAGE_ROOT}; ${CPU_COUNT} cores, node ${process.version}, ` +
      `sharp ${sharp.versions.sharp} / libvips ${sharp.versions.vips}, SHARP_THREADS ${SHARP_THREADS}, IMAGE_CONCURRENCY ${CONCURRENCIES.join(',')}, ${CLIENTS} upload clients`,
  );

  const connection = await amqp.connect(AMQP_URL);
  connection.on('error', () => undefined);
  const channel = await connection.createChannel();
  channel.on('error', (error) => log(`probe channel error: ${error.message}`));
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    const rabbitVersion = connection.connection?.serverProperties?.version ?? '?';
    const pgVersion = (await db.query('show server_version')).rows[0].server_version;
    console.log(`RabbitMQ ${rabbitVersion}, PostgreSQL ${pgVersion} (synchronous_commit=${(await db.query('show synchronous_commit')).rows[0].synchronous_commit})`);

    const input = await readBenchJpeg(1920, 1080);
    const producerPort = await freePort();
    const producer = startService('producer', { PORT: String(producerPort) });
    await waitForStatus(producer, producerPort, '/readyz', 200);
    // The producer declares the topology when it starts; a consumer started once declares the rest (queues purged by reset).
    {
      const opsPort = await freePort();
      const consumer = startService('consumer', { OPS_PORT: String(opsPort) });
      await waitForStatus(consumer, opsPort, '/readyz', 200);
      await stopService(consumer);
    }
    // Purging a queue that does not exist would close the probe channel: keep only the declared ones.
    for (const queue of [...ALL_QUEUES]) {
      const probe = await connection.createChannel();
      probe.on('error', () => undefined);
      const exists = await probe.checkQueue(queue).then(() => true, () => false);
      if (exists) await probe.close().catch(() => undefined);
      else ALL_QUEUES.splice(ALL_QUEUES.indexOf(queue), 1);
    }

    // 0. Upload memory
    log(`phase 0: producer alone, ${MEMORY_PHASE.uploads} uploads of ${mib(MEMORY_PHASE.fileBytes)} from ${MEMORY_PHASE.clients} clients`);
    const memory = await uploadMemory(producer, producerPort, db, channel);
    log(
      `uploads: ${memory.accepted}/${MEMORY_PHASE.uploads} accepted (${memory.failures} failed${memory.firstFailure ? `: ${memory.firstFailure}` : ''}) in ${fmt(memory.seconds, 1)} s, ` +
        `${fmt((memory.accepted * memory.fileBytes) / 1024 / 1024 / memory.seconds)} MiB/s; producer RSS ${mib(memory.before.rss)} before, peak ${mib(memory.after.peak)}` +
        `${memory.peakReset ? '' : ' (peak since start: clear_refs not allowed)'}; CPU: ${formatCpu(memory.cpu.percent)}`,
    );

    // 1. Per case: bare sharp, then the pipeline at each IMAGE_CONCURRENCY
    const bares = [];
    const runs = [];
    for (const testCase of CASES) {
      log(`bare sharp, ${testCase.name}, ${BARE_IN_FLIGHT} in flight, mozjpeg, ${BARE_SECONDS} s`);
      const b = await bare(input, testCase);
      bares.push({ testCase, ...b });
      log(`bare ${testCase.name}: ${fmt(b.imagesPerSecond, 1)} images/s, ${fmt(b.cpuMsPerImage, 1)} CPU ms/image; CPU: ${formatCpu(b.cpu.percent)}`);
      const images = FIXED_IMAGES ?? Math.min(1500, Math.max(100, Math.round(b.imagesPerSecond * 6)));
      for (const concurrency of CONCURRENCIES) {
        log(`pipeline ${testCase.name}, IMAGE_CONCURRENCY=${concurrency}, ${images} images from ${CLIENTS} clients`);
        const run = await pipelineRun({ producer, producerPort, db, channel, input, testCase, concurrency, images });
        run.bareRate = b.imagesPerSecond;
        run.bareCpuMs = b.cpuMsPerImage;
        runs.push(run);
        log(
          `pipeline ${testCase.name} c=${concurrency}: ${fmt(run.imagesPerSecond, 1)} images/s (${run.succeeded}/${images} in ${fmt(run.elapsedSeconds, 1)} s, steady ${fmt(run.steadyRate, 1)}/s) = ` +
            `${fmt((100 * run.imagesPerSecond) / b.imagesPerSecond, 1)} % of bare; uploads ${fmt(run.upload.rate, 1)}/s; CPU: ${formatCpu(run.cpu.percent)}`,
        );
        if (run.upload.firstFailure) log(`first upload failure: ${run.upload.firstFailure}`);
        assertAlive(producer);
      }
    }

    // ------------------------------------------------------------------- tables
    printTable(
      `Bare sharp (this process, ${BARE_IN_FLIGHT} in flight, sharp.concurrency(${SHARP_THREADS}), cache off, jpeg mozjpeg)`,
      ['Case', 'images/s', 'CPU ms/image', `wall ms/image (${BARE_IN_FLIGHT} in flight)`, 'CPU % bench / postgres / rabbitmq / others / machine'],
      bares.map((b) => [
        b.testCase.name,
        fmt(b.imagesPerSecond, 1),
        fmt(b.cpuMsPerImage, 1),
        fmt((1000 * BARE_IN_FLIGHT) / b.imagesPerSecond, 1),
        `${fmt(b.cpu.percent.bench)} / ${fmt(b.cpu.percent.postgres)} / ${fmt(b.cpu.percent.rabbitmq)} / ${fmt(b.cpu.percent.others)} / ${fmt(b.cpu.percent.machine)} of ${CPU_COUNT * 100}`,
      ]),
    );

    const name = (r) => `${r.testCase.name}, c=${r.concurrency}`;
    printTable(
      `Pipeline (one producer, one consumer, ${CLIENTS} upload clients, SHARP_THREADS=${SHARP_THREADS})`,
      ['Case, IMAGE_CONCURRENCY', 'images/s', 'steady/s', 'bare/s', 'ratio', 'done', 'uploads/s', 'upload p50 / p99 ms', 'e2e p50 / p99 ms', 'queue wait p50 ms', 'run mean ms', 'delivery→ack ms', 'results checked'],
      runs.map((r) => [
        name(r),
        fmt(r.imagesPerSecond, 1),
        fmt(r.steadyRate, 1),
        fmt(r.bareRate, 1),
        `${fmt((100 * r.imagesPerSecond) / r.bareRate, 1)} %`,
        `${r.succeeded}/${r.images}${r.complete ? '' : ' (cut)'}`,
        fmt(r.upload.rate, 1),
        `${fmt(r.upload.p50, 1)} / ${fmt(r.upload.p99, 1)}`,
        `${fmt(r.p50)} / ${fmt(r.p99)}`,
        fmt(r.queueWaitP50),
        fmt(r.runMean, 1),
        fmt(r.deliveryToAckMs, 1),
        `${r.verified}/3`,
      ]),
    );

    printTable(
      'Where the time goes: CPU in % of one core over first upload → last finish, and CPU ms per finished image',
      ['Case, IMAGE_CONCURRENCY', 'producer', 'consumer', 'postgres', 'rabbitmq', 'bench', 'irq', 'others', 'machine', 'ms/img producer', 'ms/img consumer (bare)', 'ms/img pg + mq', 'ms/img all ours', 'bare / ours (CPU-bound ratio)', 'loop p99 max ms'],
      runs.map((r) => {
        const per = (ms) => ms / Math.max(1, r.succeeded);
        const ours = r.cpu.ms.producer + r.cpu.ms.consumer + r.cpu.ms.postgres + r.cpu.ms.rabbitmq + r.cpu.ms.bench + r.cpu.ms.irq;
        return [
          name(r),
          fmt(r.cpu.percent.producer),
          fmt(r.cpu.percent.consumer),
          fmt(r.cpu.percent.postgres),
          fmt(r.cpu.percent.rabbitmq),
          fmt(r.cpu.percent.bench),
          fmt(r.cpu.percent.irq),
          fmt(r.cpu.percent.others),
          `${fmt(r.cpu.percent.machine)} / ${CPU_COUNT * 100}`,
          fmt(per(r.cpu.ms.producer), 1),
          `${fmt(per(r.cpu.ms.consumer), 1)} (${fmt(r.bareCpuMs, 1)})`,
          fmt(per(r.cpu.ms.postgres + r.cpu.ms.rabbitmq), 1),
          fmt(per(ours), 1),
          `${fmt((100 * r.bareCpuMs) / per(ours), 0)} %`,
          fmt(r.loopP99Max * 1000, 1),
        ];
      }),
    );

    const threadGroups = (service) => [...new Set(runs.flatMap((r) => Object.keys(r.threads[service])))];
    for (const service of ['consumer', 'producer']) {
      const groups = threadGroups(service).filter((g) => runs.some((r) => r.threads[service][g] / Math.max(1, r.succeeded) >= 0.05));
      printTable(
        `${service[0].toUpperCase()}${service.slice(1)} CPU ms per finished image, by thread (main = event loop: JS, HTTP, pg, amqp; node = libuv pool (sharp's decode/encode calls, fs) and V8 GC/compiler threads; libvips worker = libvips's own pipeline threads)`,
        ['Case, IMAGE_CONCURRENCY', ...groups, 'total'],
        runs.map((r) => {
          const per = (ms) => fmt(ms / Math.max(1, r.succeeded), 1);
          return [name(r), ...groups.map((g) => per(r.threads[service][g] ?? 0)), per(Object.values(r.threads[service]).reduce((a, b) => a + b, 0))];
        }),
      );
    }

    printTable(
      'Per image: PostgreSQL and RabbitMQ work (whole run, producer + consumer)',
      ['Case, IMAGE_CONCURRENCY', 'commits', 'WAL syncs', 'WAL kB', 'jobs upd', 'job_events ins', 'outbox ins / del', 'job events published', 'retried / dead / extra attempts', 'warn/error logs'],
      runs.map((r) => {
        const per = (n) => fmt(n / Math.max(1, r.succeeded), 2);
        const row = (table) => r.pg.rows[table] ?? { ins: 0, upd: 0, del: 0 };
        return [
          name(r),
          per(r.pg.commits),
          per(r.pg.walSyncs),
          per(r.pg.walBytes / 1024),
          per(row('jobs').upd),
          per(row('job_events').ins),
          `${per(row('outbox').ins)} / ${per(row('outbox').del)}`,
          per(r.events),
          `${r.retried} / ${r.deadLettered} / ${r.extraAttempts}`,
          r.logs,
        ];
      }),
    );

    printTable(
      'Memory (VmHWM from /proc/<pid>/status, peak reset before each measurement)',
      ['Phase', 'producer RSS before', 'producer peak', 'consumer peak', 'uploaded', 'in flight at once'],
      [
        [
          `upload only, ${MEMORY_PHASE.clients} × ${mib(memory.fileBytes)} files`,
          mib(memory.before.rss),
          mib(memory.after.peak),
          '—',
          mib(memory.accepted * memory.fileBytes),
          mib(memory.inFlightBytes),
        ],
        ...runs.map((r) => [
          name(r),
          mib(r.memory.rssBefore.producer.rss),
          mib(r.memory.producerPeakDuringUploads),
          mib(r.memory.consumerPeak),
          mib(r.upload.accepted * input.length),
          mib(CLIENTS * input.length),
        ]),
      ],
    );

    const noisy = [...bares.map((b) => [`bare ${b.testCase.name}`, b.cpu.percent]), ...runs.map((r) => [name(r), r.cpu.percent])].filter(([, cpu]) => cpu.others > 20);
    if (noisy.length > 0) {
      console.log(
        `\nWARNING: other processes on this machine used CPU during the run (${noisy.map(([phase, cpu]) => `${phase}: ${fmt(cpu.others)}% of a core`).join(', ')}); images/s are lower than on an idle machine, and bare vs pipeline compare only if both saw the same load.`,
      );
    }
    console.log(`service warn/error log lines: producer ${producer.warnings}/${producer.errors}`);

    const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
    const memoryGrowth = memory.after.peak - memory.before.rss;
    const summary = [];
    for (const testCase of CASES) {
      const caseRuns = runs.filter((r) => r.testCase === testCase);
      for (const r of caseRuns) {
        const ratio = r.imagesPerSecond / r.bareRate;
        summary.push([`${name(r)}: pipeline / bare sharp`, `${fmt(r.imagesPerSecond, 1)} / ${fmt(r.bareRate, 1)} = ${fmt(100 * ratio, 1)} %`, `≥ ${fmt(100 * TARGET_RATIO)} %`, verdict(r.complete && ratio >= TARGET_RATIO)]);
      }
    }
    const allDone = runs.every((r) => r.complete && r.failed === 0 && r.verified === 3);
    summary.push(['Every image succeeded, results decoded right', allDone ? 'yes' : runs.map((r) => `${r.succeeded}/${r.images}`).join(', '), 'yes', verdict(allDone)]);
    summary.push([
      `Producer peak RSS growth, uploading ${MEMORY_PHASE.clients} × ${mib(memory.fileBytes)} at once`,
      `${mib(memoryGrowth)} (peak ${mib(memory.after.peak)})`,
      `< ${mib(memory.inFlightBytes / 2)} (half of what is in flight)`,
      verdict(memory.accepted === MEMORY_PHASE.uploads && memory.peakReset && memoryGrowth < memory.inFlightBytes / 2),
    ]);
    printTable('Summary', ['Figure', 'Measured', 'Target', 'Result'], summary);
  } finally {
    await db.end().catch(() => undefined);
    await connection.close().catch(() => undefined);
    opsAgent.destroy();
    await cleanUp();
  }
}

main().then(
  () => process.exit(0),
  async (error) => {
    console.error(`benchmark failed: ${error.stack ?? error.message}`);
    await cleanUp();
    process.exit(1);
  },
);
