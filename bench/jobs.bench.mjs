// Benchmark: small factorize jobs end to end, one producer process and one consumer process.
//
//   cd /work/main && npx tsc -b services/producer services/consumer && node bench/jobs.bench.mjs [--jobs 5000]
//
// Options: --jobs N            jobs per run (default 5000)
//          --clients 32,64     concurrent keep-alive HTTP clients to try in the submit-only phase
//          --concurrency 4,16,64  FACTORIZE_CONCURRENCY (job-queue prefetch) of the end-to-end runs
//          --workers W         FACTORIZE_WORKERS of the consumer (default: the consumer's own default, the CPU count)
//          --max-seconds S     bound of one run, from its first submit (default 40)
//          --async-commit      diagnosis: run against a throwaway database bench_<random> created with
//                              `synchronous_commit = off` (no WAL fsync wait at commit), to show how much
//                              of the figure is the disk's fsync; dropped at the end. Not a production setting.
//
// Phases:
//   1. Submit only: producer alone (no consumer), N × POST /v1/jobs {"kind":"factorize","input":{"number":"1000000+i"}}
//      from C clients, for each C of --clients: 202s per second and HTTP latency p50/p99. The better C
//      is used afterwards. Queues are purged and the tables truncated after each run.
//   2. End to end, once per FACTORIZE_CONCURRENCY: a fresh consumer process, then N jobs submitted
//      by the better C; completion is read from the jobs table every 200 ms (a count), and at the end
//      every job's created_at / finished_at: end-to-end latency p50/p99, and jobs/s = N / (first
//      submit → last finished_at). Purged and truncated after each run, the consumer stopped.
//   Evidence recorded per run: CPU of each process from /proc (% of one core), the consumer's
//   /metrics (processing time, event-loop lag), PostgreSQL commits, WAL syncs and row writes per job
//   (pg_stat_database, pg_stat_wal, pg_stat_user_tables), RabbitMQ messages left in job-events.
//
// Everything runs in its own corner: AMQP prefix bench.<random>, schema bench_<random>; both are
// deleted at the end, and every child process is killed, on error and on Ctrl-C too.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import net from 'node:net';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const requireFromTestkit = createRequire(resolve(ROOT, 'packages/testkit/package.json'));
const amqp = requireFromTestkit('amqplib');
const pg = requireFromTestkit('pg');

// ---------------------------------------------------------------------------------------------
// Settings

function argument(name) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? undefined : process.argv[index + 1];
}

function numberList(name, fallback) {
  const raw = argument(name);
  if (raw === undefined) return fallback;
  const values = raw.split(',').map(Number);
  if (values.some((v) => !Number.isInteger(v) || v <= 0)) {
    console.error(`--${name} needs positive integers separated by commas`);
    process.exit(2);
  }
  return values;
}

const JOBS = numberList('jobs', [5000])[0];
const CLIENT_OPTIONS = numberList('clients', [32, 64]);
const CONCURRENCIES = numberList('concurrency', [4, 16, 64]);
const WORKERS = argument('workers') === undefined ? undefined : numberList('workers', [])[0];
const MAX_SECONDS = numberList('max-seconds', [40])[0];
const ASYNC_COMMIT = process.argv.includes('--async-commit');
const POLL_MS = 200;
const TARGET_JOBS_PER_SECOND = 1000;

const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const ADMIN_DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RUN_ID = randomBytes(4).toString('hex');
/** With --async-commit, a database of our own (so its setting touches nobody else); else the shared one. */
const OWN_DATABASE = ASYNC_COMMIT ? `bench_${RUN_ID}` : undefined;
const DATABASE_URL = OWN_DATABASE ? Object.assign(new URL(ADMIN_DATABASE_URL), { pathname: `/${OWN_DATABASE}` }).toString() : ADMIN_DATABASE_URL;
const PREFIX = `bench.${RUN_ID}`;
const SCHEMA = `bench_${RUN_ID}`;
const RETRY_DELAYS_MS = [1000, 5000, 30000, 120000, 600000];
const NAMES = {
  jobQueue: `${PREFIX}.job.factorize`,
  objectQueue: `${PREFIX}.object.check`,
  deadLetterQueue: `${PREFIX}.dead-letter`,
  jobEventsQueue: `${PREFIX}.job-events`,
  retryQueues: RETRY_DELAYS_MS.map((ms) => `${PREFIX}.retry.${ms}ms`),
  exchanges: ['work', 'retry', 'dlx', 'events'].map((suffix) => `${PREFIX}.${suffix}`),
};
const ALL_QUEUES = [NAMES.jobQueue, NAMES.objectQueue, NAMES.deadLetterQueue, NAMES.jobEventsQueue, ...NAMES.retryQueues];

const log = (message) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const fmt = (n, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
    : 'n/a';

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
});

// ---------------------------------------------------------------------------------------------
// HTTP

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

function request(agent, port, method, path, body, timeoutMs = 10_000) {
  return new Promise((resolveResponse, reject) => {
    const headers = body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolveResponse({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
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
      const { status } = await request(opsAgent, port, 'GET', path, undefined, 2_000);
      if (status === wanted) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${handle.service} did not answer ${wanted} on ${path} within ${timeoutMs} ms:\n${handle.lines.slice(-20).join('\n')}`);
    await sleep(100);
  }
}

/** Sums the samples of a Prometheus metric whose labels contain `labelFilter` (all label sets if none). */
function metricSum(text, name, labelFilter = '') {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    if (labelFilter && !rest.includes(labelFilter)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

async function scrape(port) {
  try {
    const { status, body } = await request(opsAgent, port, 'GET', '/metrics', undefined, 5_000);
    return status === 200 ? body : '';
  } catch {
    return '';
  }
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
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
      const usage = {};
      for (const [name, now] of Object.entries(ticks)) {
        let delta = 0;
        for (const [pid, value] of now) delta += value - (earlier.ticks[name].get(pid) ?? 0);
        usage[name] = (100 * delta) / CLOCK_TICKS / seconds;
      }
      const totalDelta = system.total - earlier.system.total;
      const share = (d) => (totalDelta > 0 ? ((100 * d) / totalDelta) * CPU_COUNT : 0);
      const ours = Object.values(usage).reduce((a, b) => a + b, 0);
      usage.irq = share(system.irq - earlier.system.irq);
      usage.machine = share(system.total - system.idle - (earlier.system.total - earlier.system.idle));
      usage.others = Math.max(0, usage.machine - ours - usage.irq);
      return usage;
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

const formatCpu = (usage) => Object.entries(usage).map(([name, percent]) => `${name} ${percent.toFixed(0)}%`).join(', ');

// ---------------------------------------------------------------------------------------------
// PostgreSQL counters (the whole cluster for commits and WAL; this schema for row writes)

async function pgCounters(db) {
  const [database] = (await db.query(`select xact_commit::bigint as commits from pg_stat_database where datname = current_database()`)).rows;
  const [wal] = (await db.query(`select wal_records::bigint as records, wal_bytes::bigint as bytes, wal_sync::bigint as syncs, wal_write::bigint as writes from pg_stat_wal`)).rows;
  const tables = (
    await db.query(
      `select relname, n_tup_ins::bigint as ins, n_tup_upd::bigint as upd, n_tup_del::bigint as del from pg_stat_user_tables where schemaname = $1`,
      [SCHEMA],
    )
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

function printTable(title, headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  console.log(`\n${title}`);
  console.log(line(headers));
  console.log(`|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

// ---------------------------------------------------------------------------------------------
// Submitting

/**
 * N jobs from `clients` keep-alive clients, back to back (closed loop). Resolves with the first
 * submit time (epoch ms), the submit window, per-request latencies and the failures.
 */
async function submitJobs(port, clients, firstNumber, count = JOBS) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies = [];
  let next = 0;
  let accepted = 0;
  let failures = 0;
  let firstFailure;
  const startedAtEpoch = Date.now();
  const started = performance.now();
  const deadline = started + MAX_SECONDS * 1000;
  async function client() {
    while (next < count && performance.now() < deadline) {
      const i = next;
      next += 1;
      const body = JSON.stringify({ kind: 'factorize', input: { number: String(firstNumber + i) } });
      const t0 = performance.now();
      try {
        const { status, body: answer } = await request(agent, port, 'POST', '/v1/jobs', body);
        latencies.push(performance.now() - t0);
        if (status === 202) accepted += 1;
        else {
          failures += 1;
          firstFailure ??= `HTTP ${status}: ${answer.slice(0, 200)}`;
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
  return {
    clients,
    startedAtEpoch,
    seconds,
    accepted,
    failures,
    firstFailure,
    rate: accepted / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1),
  };
}

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

async function reset(db, channel) {
  for (const queue of ALL_QUEUES) await channel.purgeQueue(queue);
  await db.query(`truncate "${SCHEMA}".job_events, "${SCHEMA}".outbox, "${SCHEMA}".jobs cascade`);
}

// ---------------------------------------------------------------------------------------------
// Phase 1: submit only

async function submitOnly(producer, producerPort, db, channel, clients, firstNumber) {
  const groups = cpuGroups({ producer });
  const pgBefore = await pgCounters(db);
  const cpuBefore = cpuSnapshot(groups);
  const result = await submitJobs(producerPort, clients, firstNumber);
  const cpu = cpuSnapshot(groups).since(cpuBefore);
  assertAlive(producer);
  const outboxLeft = await waitForEmptyOutbox(db);
  const queued = (await channel.checkQueue(NAMES.jobQueue)).messageCount;
  await sleep(1000); // let the backends flush their table statistics
  const pgUse = pgDelta(pgBefore, await pgCounters(db));
  await reset(db, channel);
  return { ...result, cpu, outboxLeft, queued, pg: pgUse };
}

// ---------------------------------------------------------------------------------------------
// Phase 2: end to end

async function endToEnd({ producer, producerPort, db, channel, clients, concurrency, firstNumber }) {
  const opsPort = await freePort();
  const consumer = startService('consumer', {
    OPS_PORT: String(opsPort),
    FACTORIZE_CONCURRENCY: String(concurrency),
    ...(WORKERS ? { FACTORIZE_WORKERS: String(WORKERS) } : {}),
  });
  try {
    await waitForStatus(consumer, opsPort, '/readyz', 200);
    for (let i = 0; (await channel.checkQueue(NAMES.jobQueue)).consumerCount === 0; i += 1) {
      if (i > 100) throw new Error('the consumer never subscribed to the job queue');
      await sleep(100);
    }
    const groups = cpuGroups({ producer, consumer });
    const metricsBefore = await scrape(opsPort);
    const pgBefore = await pgCounters(db);
    const cpuBefore = cpuSnapshot(groups);

    // Completion: a count of finished rows every 200 ms; consumer state and queue depth every ~1 s.
    const timeline = [];
    let finished = { succeeded: 0, failed: 0, other: 0 };
    let polling = true;
    let loopLagMax = 0;
    let loopP99Max = 0;
    const started = performance.now();
    const poller = (async () => {
      let tick = 0;
      while (polling) {
        const { rows } = await db.query(
          `select count(*) filter (where status = 'succeeded')::int as succeeded,
                  count(*) filter (where status in ('failed', 'cancelled'))::int as failed,
                  count(*) filter (where status in ('queued', 'running'))::int as other
             from "${SCHEMA}".jobs`,
        );
        finished = rows[0];
        if (tick % 5 === 0) {
          const text = await scrape(opsPort);
          const lag = metricSum(text, 'nodejs_eventloop_lag_seconds');
          const p99 = metricSum(text, 'conveyor_event_loop_delay_p99_seconds');
          loopLagMax = Math.max(loopLagMax, lag);
          loopP99Max = Math.max(loopP99Max, p99);
          const queue = await channel.checkQueue(NAMES.jobQueue);
          timeline.push({ t: (performance.now() - started) / 1000, ...finished, ready: queue.messageCount, lag, p99 });
        }
        tick += 1;
        await sleep(POLL_MS);
      }
    })();

    const submit = await submitJobs(producerPort, clients, firstNumber);
    const deadline = started + MAX_SECONDS * 1000;
    while (finished.succeeded + finished.failed < submit.accepted && performance.now() < deadline) {
      assertAlive(consumer);
      await sleep(POLL_MS);
    }
    const cpu = cpuSnapshot(groups).since(cpuBefore);
    polling = false;
    await poller;
    const metricsAfter = await scrape(opsPort);

    const { rows } = await db.query(
      `select extract(epoch from created_at) * 1000 as created, extract(epoch from finished_at) * 1000 as finished
         from "${SCHEMA}".jobs where status = 'succeeded' order by finished_at`,
    );
    const finishes = rows.map((r) => Number(r.finished));
    const latencies = rows.map((r) => Number(r.finished) - Number(r.created)).sort((a, b) => a - b);
    const lastFinish = finishes.at(-1) ?? NaN;
    const elapsedSeconds = (lastFinish - submit.startedAtEpoch) / 1000;
    // Steady rate: the middle 60 % of completions, free of the ramp-up and the tail.
    const at = (fraction) => finishes[Math.min(finishes.length - 1, Math.floor(fraction * finishes.length))];
    const steadyRate = finishes.length > 10 ? (0.6 * finishes.length) / ((at(0.8) - at(0.2)) / 1000) : NaN;

    const label = `queue="${NAMES.jobQueue}"`;
    const processingCount = metricSum(metricsAfter, 'conveyor_message_processing_seconds_count', label) - metricSum(metricsBefore, 'conveyor_message_processing_seconds_count', label);
    const processingSum = metricSum(metricsAfter, 'conveyor_message_processing_seconds_sum', label) - metricSum(metricsBefore, 'conveyor_message_processing_seconds_sum', label);
    const under10ms = metricSum(metricsAfter, 'conveyor_message_processing_seconds_bucket', `le="0.01"`) - metricSum(metricsBefore, 'conveyor_message_processing_seconds_bucket', `le="0.01"`);
    const under50ms = metricSum(metricsAfter, 'conveyor_message_processing_seconds_bucket', `le="0.05"`) - metricSum(metricsBefore, 'conveyor_message_processing_seconds_bucket', `le="0.05"`);

    await waitForEmptyOutbox(db);
    await sleep(1000); // let the backends flush their table statistics
    const pgUse = pgDelta(pgBefore, await pgCounters(db));
    const events = (await channel.checkQueue(NAMES.jobEventsQueue)).messageCount;
    const deadLettered = (await channel.checkQueue(NAMES.deadLetterQueue)).messageCount;
    let retried = 0;
    for (const queue of NAMES.retryQueues) retried += (await channel.checkQueue(queue)).messageCount;

    return {
      concurrency,
      clients,
      submit,
      succeeded: rows.length,
      failed: finished.failed,
      complete: rows.length >= submit.accepted && submit.accepted === JOBS,
      jobsPerSecond: rows.length / elapsedSeconds,
      elapsedSeconds,
      steadyRate,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1),
      cpu,
      meanProcessingMs: (1000 * processingSum) / Math.max(1, processingCount),
      processed: processingCount,
      under10ms,
      under50ms,
      loopLagMax,
      loopP99Max,
      pg: pgUse,
      events,
      deadLettered,
      retried,
      timeline,
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
      if (OWN_DATABASE) {
        const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
        await client.connect();
        await client.query(`drop database if exists "${OWN_DATABASE}" with (force)`);
        await client.end();
      } else {
        const client = new pg.Client({ connectionString: DATABASE_URL });
        await client.connect();
        await client.query(`drop schema if exists "${SCHEMA}" cascade`);
        await client.end();
      }
    } catch (error) {
      console.error(`could not drop ${OWN_DATABASE ? `database ${OWN_DATABASE}` : `schema ${SCHEMA}`}: ${error.message}`);
    }
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

const perJob = (n, jobs) => fmt(n / Math.max(1, jobs), 2);

async function main() {
  for (const service of ['producer', 'consumer']) {
    try {
      readFileSync(resolve(ROOT, 'services', service, 'dist/main.js'));
    } catch {
      throw new Error(`services/${service}/dist/main.js is missing: build first (npx tsc -b services/producer services/consumer)`);
    }
  }
  console.log(`Jobs end-to-end benchmark — ${fmt(JOBS)} jobs per run, prefix ${PREFIX}, schema ${SCHEMA}, ${CPU_COUNT} cores, node ${process.version}`);

  if (OWN_DATABASE) {
    const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    await admin.query(`create database "${OWN_DATABASE}"`);
    await admin.query(`alter database "${OWN_DATABASE}" set synchronous_commit = off`);
    await admin.end();
    console.log(`DIAGNOSIS MODE: database ${OWN_DATABASE} with synchronous_commit = off (commits do not wait for the WAL fsync)`);
  }
  const connection = await amqp.connect(AMQP_URL);
  connection.on('error', () => undefined);
  const channel = await connection.createChannel();
  channel.on('error', (error) => log(`probe channel error: ${error.message}`));
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    const rabbitVersion = connection.connection?.serverProperties?.version ?? '?';
    const pgVersion = (await db.query('show server_version')).rows[0].server_version;
    const syncCommit = (await db.query('show synchronous_commit')).rows[0].synchronous_commit;
    console.log(`RabbitMQ ${rabbitVersion}, PostgreSQL ${pgVersion} (synchronous_commit=${syncCommit})`);

    const producerPort = await freePort();
    const producer = startService('producer', { PORT: String(producerPort) });
    await waitForStatus(producer, producerPort, '/readyz', 200);
    // Warm-up: JIT, connection pool, broker channel (a few hundred jobs, then wiped).
    await submitJobs(producerPort, 16, 1, Math.min(500, JOBS));
    await waitForEmptyOutbox(db);
    await reset(db, channel);

    // 1. Submit only
    const submits = [];
    let firstNumber = 1_000_000;
    for (const clients of CLIENT_OPTIONS) {
      log(`phase 1: submit only, ${fmt(JOBS)} jobs from ${clients} clients, no consumer`);
      const result = await submitOnly(producer, producerPort, db, channel, clients, firstNumber);
      firstNumber += JOBS;
      submits.push(result);
      log(
        `submit C=${clients}: ${fmt(result.rate)} 202/s (${fmt(result.accepted)} in ${fmt(result.seconds, 1)} s, ${result.failures} failed), ` +
          `p50 ${fmt(result.p50, 1)} ms p99 ${fmt(result.p99, 1)} ms; ${fmt(result.queued)} queued; CPU: ${formatCpu(result.cpu)}`,
      );
      if (result.firstFailure) log(`first failure: ${result.firstFailure}`);
    }
    const bestSubmit = submits.reduce((a, b) => (b.rate > a.rate ? b : a));
    const clients = bestSubmit.clients;

    // 2. End to end
    const runs = [];
    for (const concurrency of CONCURRENCIES) {
      log(`phase 2: end to end, FACTORIZE_CONCURRENCY=${concurrency}, ${fmt(JOBS)} jobs from ${clients} clients`);
      const run = await endToEnd({ producer, producerPort, db, channel, clients, concurrency, firstNumber });
      firstNumber += JOBS;
      runs.push(run);
      log(
        `e2e prefetch ${concurrency}: ${fmt(run.jobsPerSecond)} jobs/s (${fmt(run.succeeded)} of ${fmt(run.submit.accepted)} in ${fmt(run.elapsedSeconds, 1)} s, steady ${fmt(run.steadyRate)}/s), ` +
          `latency p50 ${fmt(run.p50)} ms p99 ${fmt(run.p99)} ms; submit ${fmt(run.submit.rate)}/s; CPU: ${formatCpu(run.cpu)}`,
      );
      if (run.submit.firstFailure) log(`first failure: ${run.submit.firstFailure}`);
      assertAlive(producer);
    }
    const best = runs.reduce((a, b) => (b.jobsPerSecond > a.jobsPerSecond ? b : a));

    printTable(
      'Submit only (producer alone, no consumer)',
      ['Clients', '202/s', 'p50 ms', 'p99 ms', 'max ms', 'failed', 'PG commits/job', 'WAL syncs/job', 'CPU (% of one core)'],
      submits.map((s) => [
        s.clients,
        fmt(s.rate),
        fmt(s.p50, 1),
        fmt(s.p99, 1),
        fmt(s.max, 1),
        s.failures,
        perJob(s.pg.commits, s.accepted),
        perJob(s.pg.walSyncs, s.accepted),
        `producer ${s.cpu.producer.toFixed(0)}, postgres ${s.cpu.postgres.toFixed(0)}, rabbitmq ${s.cpu.rabbitmq.toFixed(0)}, bench ${s.cpu.bench.toFixed(0)}, others ${s.cpu.others.toFixed(0)}`,
      ]),
    );

    printTable(
      `End to end (one producer, one consumer, ${clients} clients)`,
      ['FACTORIZE_CONCURRENCY', 'jobs/s', 'steady jobs/s', 'e2e p50 ms', 'e2e p99 ms', 'done', 'submit 202/s', 'submit p50 / p99 ms', 'delivery→ack mean ms'],
      runs.map((r) => [
        r.concurrency,
        fmt(r.jobsPerSecond),
        fmt(r.steadyRate),
        fmt(r.p50),
        fmt(r.p99),
        `${fmt(r.succeeded)}/${fmt(JOBS)}${r.complete ? '' : ' (cut)'}`,
        fmt(r.submit.rate),
        `${fmt(r.submit.p50, 1)} / ${fmt(r.submit.p99, 1)}`,
        fmt(r.meanProcessingMs, 1),
      ]),
    );

    printTable(
      'Where the time goes (per run; CPU in % of one core over first submit → last finish)',
      ['FACTORIZE_CONCURRENCY', 'producer', 'consumer', 'postgres', 'rabbitmq', 'bench', 'irq', 'others', 'machine', 'loop lag max ms', 'loop p99 max ms', 'acked <10 ms / <50 ms'],
      runs.map((r) => [
        r.concurrency,
        fmt(r.cpu.producer),
        fmt(r.cpu.consumer),
        fmt(r.cpu.postgres),
        fmt(r.cpu.rabbitmq),
        fmt(r.cpu.bench),
        fmt(r.cpu.irq),
        fmt(r.cpu.others),
        `${fmt(r.cpu.machine)} / ${CPU_COUNT * 100}`,
        fmt(r.loopLagMax * 1000, 1),
        fmt(r.loopP99Max * 1000, 1),
        `${fmt((100 * r.under10ms) / Math.max(1, r.processed))} % / ${fmt((100 * r.under50ms) / Math.max(1, r.processed))} %`,
      ]),
    );

    // Per job: the producer's share comes from the submit-only phase (per accepted job); the
    // consumer's is what the end-to-end run used beyond that, per succeeded job (runs cut by
    // --max-seconds created more jobs than they finished, so a plain division would mislead).
    const producerShare = (pick) => pick(bestSubmit) / Math.max(1, bestSubmit.accepted);
    const split = (r, pick) => {
      const producer = producerShare(pick);
      const consumer = (pick(r) - producer * r.submit.accepted) / Math.max(1, r.succeeded);
      return `${fmt(producer + consumer, 2)} (${fmt(producer, 2)} + ${fmt(consumer, 2)})`;
    };
    const row = (table, key) => (x) => x.pg.rows[table]?.[key] ?? 0;
    printTable(
      'PostgreSQL and RabbitMQ work per job = producer (per job of phase 1) + consumer (the rest, per succeeded job)',
      ['FACTORIZE_CONCURRENCY', 'commits', 'WAL syncs', 'WAL records', 'jobs upd', 'job_events ins', 'outbox ins', 'outbox del', 'job-events msgs / expected', 'retried / dead'],
      runs.map((r) => [
        r.concurrency,
        split(r, (x) => x.pg.commits),
        split(r, (x) => x.pg.walSyncs),
        split(r, (x) => x.pg.walRecords),
        split(r, row('jobs', 'upd')),
        split(r, row('job_events', 'ins')),
        split(r, row('outbox', 'ins')),
        split(r, row('outbox', 'del')),
        `${fmt(r.events)} of ${fmt(r.submit.accepted + 2 * r.succeeded)}`,
        `${r.retried} / ${r.deadLettered}`,
      ]),
    );

    printTable(
      `Timeline of the best run (FACTORIZE_CONCURRENCY=${best.concurrency}, per ~1 s)`,
      ['t (s)', 'succeeded', 'queued/running rows', 'job queue ready', 'loop lag ms'],
      best.timeline.map((s) => [fmt(s.t, 1), fmt(s.succeeded), fmt(s.other), fmt(s.ready), fmt(s.lag * 1000, 1)]),
    );

    const noisy = [...submits.map((s) => [`submit C=${s.clients}`, s.cpu]), ...runs.map((r) => [`e2e prefetch ${r.concurrency}`, r.cpu])].filter(([, cpu]) => cpu.others > 20);
    if (noisy.length > 0) {
      console.log(
        `\nWARNING: other processes on this machine used CPU during the run (${noisy.map(([phase, cpu]) => `${phase}: ${fmt(cpu.others)}% of a core`).join(', ')}); those figures are lower than on an idle machine.`,
      );
    }
    console.log(`service warn/error log lines: producer ${producer.warnings}/${producer.errors}, consumers ${runs.map((r) => r.logs).join(', ')}`);

    const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
    const allDone = runs.every((r) => r.complete && r.failed === 0);
    printTable('Summary', ['Figure', 'Measured', 'Target', 'Result'], [
      [`Submit rate, ${bestSubmit.clients} clients, no consumer (202/s)`, fmt(bestSubmit.rate), '(reference)', ''],
      ['Submit latency p50 / p99 (ms)', `${fmt(bestSubmit.p50, 1)} / ${fmt(bestSubmit.p99, 1)}`, '(reference)', ''],
      ...runs.map((r) => [
        `End to end, FACTORIZE_CONCURRENCY=${r.concurrency} (jobs/s)`,
        fmt(r.jobsPerSecond),
        `≥ ${fmt(TARGET_JOBS_PER_SECOND)}`,
        verdict(r.complete && r.jobsPerSecond >= TARGET_JOBS_PER_SECOND),
      ]),
      [`End-to-end latency p50 / p99, best run (ms)`, `${fmt(best.p50)} / ${fmt(best.p99)}`, '', ''],
      [`Best end to end (jobs/s)`, fmt(best.jobsPerSecond), `≥ ${fmt(TARGET_JOBS_PER_SECOND)}`, verdict(best.complete && best.jobsPerSecond >= TARGET_JOBS_PER_SECOND)],
      ['Every job succeeded', allDone ? 'yes' : runs.map((r) => `${r.succeeded}/${JOBS}`).join(', '), 'yes', verdict(allDone)],
    ]);
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
