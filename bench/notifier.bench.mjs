// Benchmark: the webhook notifier alone — job events in, signed webhooks out to a local receiver.
//
//   cd /work/main && npx tsc -b services/notifier && node bench/notifier.bench.mjs
//
// Options: --rate R              job events offered per second (default 1200)
//          --seconds S           length of the offered load (default 20)
//          --concurrency 200,500 NOTIFIER_CONCURRENCY of the runs, one fresh notifier process each
//          --per-endpoint P      WEBHOOK_MAX_PER_ENDPOINT (default: the run's NOTIFIER_CONCURRENCY, so the
//                                single receiver origin is not capped below the concurrency)
//          --pool P              DATABASE_POOL_MAX of the notifier (default: the service's own, 10)
//          --drain-seconds D     how long to wait for the backlog after sending stops (default 30)
//
// What it does, per NOTIFIER_CONCURRENCY:
//   - starts `node services/notifier/dist/main.js` (which migrates the schema and declares its topology);
//   - inserts one `jobs` row per event to come (webhook_deliveries.job_id references jobs.id), with
//     callback_url pointing at a receiver in this process (node:http on 127.0.0.1, keep-alive, 200 at once);
//   - warm-up: 1,000 events at 500/s, waited for, not counted;
//   - publishes R × S JobEvent envelopes (as jobEventMessage() builds them: {messageId, kind: 'job.event',
//     version: 1, createdAt, attempt: 0, correlationId, payload}) to `<prefix>.events` with routing key
//     job.factorize.succeeded on a confirm channel, open loop at a fixed rate, each event's occurredAt set to
//     its publish time;
//   - the receiver records arrival time − payload.occurredAt (the delay from a status change to its
//     webhook), the webhook-id, and checks every signature with its own HMAC (Standard Webhooks:
//     base64 HMAC-SHA256 of `${webhook-id}.${webhook-timestamp}.${body}` keyed with the base64 part of
//     the whsec_ secret);
//   - waits until every event is delivered (at most --drain-seconds after sending stops), then checks
//     that each event arrived exactly once and under one webhook-id, and reads the delivery rows and
//     attempts to split the delay: publish → delivery row created → attempt started → arrival.
// Evidence: CPU per process from /proc over the steady window (the first 3 s of the load are warm-up),
// the notifier's /metrics (attempt outcomes and latency, event-loop delay, job-events handling time),
// PostgreSQL commits and WAL syncs per delivery, job-events queue depth and delivery-row states each second.
//
// Everything runs in its own corner: AMQP prefix bench.<random>, schema bench_<random>; both are
// deleted at the end, and every child process is killed, on error and on Ctrl-C too.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
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
  if (values.some((v) => !Number.isFinite(v) || v <= 0)) {
    console.error(`--${name} needs positive numbers separated by commas`);
    process.exit(2);
  }
  return values;
}

const RATE = numberList('rate', [1200])[0];
const SECONDS = numberList('seconds', [20])[0];
const CONCURRENCIES = numberList('concurrency', [200, 500]);
const PER_ENDPOINT = argument('per-endpoint') === undefined ? undefined : numberList('per-endpoint', [])[0];
const POOL = argument('pool') === undefined ? undefined : numberList('pool', [])[0];
const DRAIN_SECONDS = numberList('drain-seconds', [30])[0];
const WARMUP_EVENTS = 1000;
const WARMUP_RATE = 500;
const STEADY_SKIP_SECONDS = Math.min(3, SECONDS / 4);
const EVENTS = Math.round(RATE * SECONDS);
const TARGETS = { perSecond: 1000, p99Ms: 100 };

const AMQP_URL = process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const RUN_ID = randomBytes(4).toString('hex');
const PREFIX = `bench.${RUN_ID}`;
const SCHEMA = `bench_${RUN_ID}`;
const RETRY_DELAYS_MS = [1000, 5000, 30000, 120000, 600000];
const SECRET_KEY = randomBytes(32);
const WEBHOOK_SECRET = `whsec_${SECRET_KEY.toString('base64')}`;
const NAMES = {
  eventsExchange: `${PREFIX}.events`,
  jobEventsQueue: `${PREFIX}.job-events`,
  deadLetterQueue: `${PREFIX}.dead-letter`,
  retryQueues: RETRY_DELAYS_MS.map((ms) => `${PREFIX}.retry.${ms}ms`),
  exchanges: ['work', 'retry', 'dlx', 'events'].map((suffix) => `${PREFIX}.${suffix}`),
};
const ALL_QUEUES = [NAMES.jobEventsQueue, NAMES.deadLetterQueue, ...NAMES.retryQueues];

const log = (message) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const fmt = (n, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';

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
// HTTP helpers

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

const opsAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function get(port, path, timeoutMs = 5_000) {
  return new Promise((resolveResponse, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'GET', path, agent: opsAgent }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => resolveResponse({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${path} timed out after ${timeoutMs} ms`)));
    req.end();
  });
}

async function waitForStatus(handle, port, path, wanted, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    assertAlive(handle);
    try {
      if ((await get(port, path, 2_000)).status === wanted) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${handle.service} did not answer ${wanted} on ${path} within ${timeoutMs} ms:\n${handle.lines.slice(-20).join('\n')}`);
    await sleep(100);
  }
}

async function scrape(port) {
  try {
    const { status, body } = await get(port, '/metrics');
    return status === 200 ? body : '';
  } catch {
    return '';
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

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// ---------------------------------------------------------------------------------------------
// The webhook receiver: answers 200 at once, records arrival, delay, webhook-id and checks the signature

function startReceiver() {
  const state = {
    /** eventId → { arrivals, webhookIds:Set, delay, at } */
    byEvent: new Map(),
    received: 0,
    arrivals: [], // epoch ms of every arrival, in order
    badSignatures: 0,
    verified: 0,
    badBodies: 0,
    firstBad: undefined,
    connections: 0,
    /** webhook-id → { count, firstAt, timestamps } */
    byWebhookId: new Map(),
  };
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      const at = Date.now();
      res.writeHead(200, { 'content-length': '0' });
      res.end();
      const body = Buffer.concat(chunks).toString('utf8');
      state.received += 1;
      state.arrivals.push(at);
      const id = req.headers['webhook-id'];
      const timestamp = req.headers['webhook-timestamp'];
      const seen = state.byWebhookId.get(id);
      if (seen) {
        seen.count += 1;
        seen.later.push({ at, timestamp });
      } else state.byWebhookId.set(id, { count: 1, firstAt: at, timestamp, later: [] });
      const signatures = String(req.headers['webhook-signature'] ?? '').split(' ');
      const expected = `v1,${createHmac('sha256', SECRET_KEY).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
      if (signatures.includes(expected)) state.verified += 1;
      else {
        state.badSignatures += 1;
        state.firstBad ??= `bad signature for ${id}: ${req.headers['webhook-signature']}`;
      }
      let payload;
      try {
        payload = JSON.parse(body);
      } catch {
        state.badBodies += 1;
        return;
      }
      const entry = state.byEvent.get(payload.eventId);
      const delay = at - Date.parse(payload.occurredAt);
      if (entry) {
        entry.arrivals += 1;
        entry.webhookIds.add(id);
      } else {
        state.byEvent.set(payload.eventId, { arrivals: 1, webhookIds: new Set([id]), delay, at });
      }
    });
  });
  server.on('connection', () => (state.connections += 1));
  return {
    state,
    listen: () => new Promise((ok) => server.listen(0, '127.0.0.1', () => ok(server.address().port))),
    close: () => new Promise((ok) => {
      server.closeAllConnections?.();
      server.close(() => ok());
    }),
  };
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

/** Local ports of the TCP connections a process holds to PostgreSQL (port 5432), from /proc. */
function pgClientPorts(pid) {
  const inodes = new Set();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match) inodes.add(match[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    return [];
  }
  const ports = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10) continue;
      if (fields[2].endsWith(':1538') && inodes.has(fields[9])) ports.push(parseInt(fields[1].split(':')[1], 16));
    }
  }
  return ports;
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
        for (const [pid, value] of now) delta += value - (earlier.ticks[name].get(pid) ?? value);
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

const formatCpu = (usage) => Object.entries(usage).map(([name, percent]) => `${name} ${percent.toFixed(0)}%`).join(', ');

// ---------------------------------------------------------------------------------------------
// PostgreSQL counters (the whole database for commits, the cluster for WAL, this schema for row writes)

async function pgCounters(db) {
  const [database] = (await db.query(`select xact_commit::bigint as commits, xact_rollback::bigint as rollbacks from pg_stat_database where datname = current_database()`)).rows;
  const [wal] = (await db.query(`select wal_records::bigint as records, wal_sync::bigint as syncs from pg_stat_wal`)).rows;
  const tables = (
    await db.query(
      `select relname, n_tup_ins::bigint as ins, n_tup_upd::bigint as upd, seq_scan::bigint as seq, coalesce(idx_scan, 0)::bigint as idx
         from pg_stat_user_tables where schemaname = $1`,
      [SCHEMA],
    )
  ).rows;
  const rows = {};
  for (const t of tables) rows[t.relname] = { ins: Number(t.ins), upd: Number(t.upd), scans: Number(t.seq) + Number(t.idx) };
  return { commits: Number(database.commits), walRecords: Number(wal.records), walSyncs: Number(wal.syncs), rows };
}

function pgDelta(before, after) {
  const rows = {};
  for (const [name, now] of Object.entries(after.rows)) {
    const was = before.rows[name] ?? { ins: 0, upd: 0, scans: 0 };
    rows[name] = { ins: now.ins - was.ins, upd: now.upd - was.upd, scans: now.scans - was.scans };
  }
  return { commits: after.commits - before.commits, walRecords: after.walRecords - before.walRecords, walSyncs: after.walSyncs - before.walSyncs, rows };
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
// Jobs rows and events

/** Inserts `count` jobs (status succeeded, sequence 1) calling back `callbackUrl`; returns their ids. */
async function insertJobs(db, count, callbackUrl) {
  const { rows } = await db.query(
    `insert into "${SCHEMA}".jobs (id, client_id, kind, request_hash, input, status, progress, attempts, callback_url, sequence, finished_at)
     select gen_random_uuid(), 'default', 'factorize', 'bench', jsonb_build_object('number', (1000000 + g)::text), 'succeeded', 1, 1, $1, 1, now()
       from generate_series(1, $2::int) as g
     returning id`,
    [callbackUrl, count],
  );
  return rows.map((r) => r.id);
}

/**
 * Publishes one job event per job id at `rate` per second (open loop: a 5 ms tick publishes what is
 * due by the clock), each with occurredAt = its publish time. Resolves once all are confirmed.
 */
async function publishEvents(channel, jobIds, rate, callbackUrl, sent) {
  const started = performance.now();
  let next = 0;
  let confirmed = 0;
  let nacked = 0;
  let maxUnconfirmed = 0;
  let lagMax = 0;
  const firstEpoch = Date.now();
  await new Promise((done, fail) => {
    const tick = () => {
      const elapsed = performance.now() - started;
      const due = Math.min(jobIds.length, Math.floor((elapsed / 1000) * rate) + 1);
      lagMax = Math.max(lagMax, due - next);
      try {
        while (next < due) {
          const jobId = jobIds[next];
          next += 1;
          const now = new Date();
          const eventId = randomUUID();
          const payload = {
            eventId,
            jobId,
            clientId: 'default',
            kind: 'factorize',
            customId: null,
            status: 'succeeded',
            sequence: 1,
            progress: { fraction: 1, message: null },
            result: { number: String(1000000 + next), factors: ['2', '2', '2', '2', '2', '2', '5', '5', '5', '5', '5', '5'] },
            error: null,
            callbackUrl,
            occurredAt: now.toISOString(),
          };
          const correlationId = randomUUID();
          const envelope = { messageId: randomUUID(), kind: 'job.event', version: 1, createdAt: now.toISOString(), attempt: 0, correlationId, payload };
          sent.set(eventId, now.getTime());
          channel.publish(
            NAMES.eventsExchange,
            'job.factorize.succeeded',
            Buffer.from(JSON.stringify(envelope)),
            { persistent: true, messageId: eventId, correlationId, type: 'job.event', contentType: 'application/json', timestamp: Math.floor(now.getTime() / 1000) },
            (error) => {
              if (error) nacked += 1;
              else confirmed += 1;
              if (confirmed + nacked === jobIds.length) done();
            },
          );
        }
      } catch (error) {
        fail(error);
        return;
      }
      maxUnconfirmed = Math.max(maxUnconfirmed, next - confirmed - nacked);
      if (next < jobIds.length) setTimeout(tick, 5);
    };
    tick();
  });
  const publishSeconds = (performance.now() - started) / 1000;
  return { firstEpoch, publishSeconds, confirmed, nacked, maxUnconfirmed, lagMax };
}

// ---------------------------------------------------------------------------------------------
// One run: a fresh notifier with NOTIFIER_CONCURRENCY = concurrency

async function reset(db, channel) {
  for (const queue of ALL_QUEUES) await channel.purgeQueue(queue).catch(() => undefined);
  await db.query(`truncate "${SCHEMA}".webhook_attempts, "${SCHEMA}".webhook_deliveries, "${SCHEMA}".jobs cascade`);
}

async function runOnce({ db, channel, concurrency }) {
  const receiver = startReceiver();
  const receiverPort = await receiver.listen();
  const callbackUrl = `http://127.0.0.1:${receiverPort}/hooks/conveyor`;
  const opsPort = await freePort();
  const perEndpoint = PER_ENDPOINT ?? concurrency;
  const notifier = startService('notifier', {
    OPS_PORT: String(opsPort),
    WEBHOOK_SECRET,
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    NOTIFIER_CONCURRENCY: String(concurrency),
    WEBHOOK_MAX_PER_ENDPOINT: String(perEndpoint),
    ...(POOL ? { DATABASE_POOL_MAX: String(POOL) } : {}),
  });
  try {
    await waitForStatus(notifier, opsPort, '/readyz', 200);
    for (let i = 0; (await channel.checkQueue(NAMES.jobEventsQueue)).consumerCount === 0; i += 1) {
      if (i > 100) throw new Error('the notifier never subscribed to the job-events queue');
      await sleep(100);
    }
    await reset(db, channel);
    const sent = new Map(); // eventId → occurredAt epoch ms
    const warmupIds = await insertJobs(db, WARMUP_EVENTS, callbackUrl);
    const jobIds = await insertJobs(db, EVENTS, callbackUrl);
    await db.query(`analyze "${SCHEMA}".jobs`);

    // Warm-up (JIT, pools, broker channel): not counted.
    const warmSent = new Map();
    await publishEvents(channel, warmupIds, WARMUP_RATE, callbackUrl, warmSent);
    for (let i = 0; receiver.state.received < WARMUP_EVENTS && i < 200; i += 1) await sleep(100);
    const warmupReceived = receiver.state.received;
    const warmupArrivals = receiver.state.arrivals.length;
    await sleep(500);

    const groups = {
      bench: () => [process.pid],
      notifier: () => [notifier.pid],
      postgres: () => pidsByName(['postgres']),
      rabbitmq: () => pidsByName(['beam.smp']),
    };
    const metricsBefore = await scrape(opsPort);
    const pgBefore = await pgCounters(db);

    // Sampling each second: queue depth, delivery-row states, event-loop delay, received.
    const timeline = [];
    let sampling = true;
    let cpuSteadyStart;
    let cpuSteadyEnd;
    const loadStarted = performance.now();
    const sampler = (async () => {
      while (sampling) {
        await sleep(1000);
        if (!sampling) break;
        const t = (performance.now() - loadStarted) / 1000;
        const ports = pgClientPorts(notifier.pid);
        const [queue, states, text, activity] = await Promise.all([
          channel.checkQueue(NAMES.jobEventsQueue),
          db.query(`select status, count(*)::int as n from "${SCHEMA}".webhook_deliveries group by status`),
          scrape(opsPort),
          db.query(
            `select state, coalesce(wait_event, 'cpu') as wait, count(*)::int as n from pg_stat_activity where client_port = any($1::int[]) group by 1, 2 order by 3 desc`,
            [ports],
          ),
        ]);
        const byStatus = Object.fromEntries(states.rows.map((r) => [r.status, r.n]));
        timeline.push({
          t,
          received: receiver.state.received - warmupReceived,
          ready: queue.messageCount,
          pending: byStatus.pending ?? 0,
          sending: byStatus.sending ?? 0,
          delivered: (byStatus.delivered ?? 0) - warmupReceived,
          loopP99: metricSum(text, 'conveyor_event_loop_delay_p99_seconds'),
          connections: ports.length,
          busy: activity.rows.filter((r) => r.state !== 'idle').reduce((a, r) => a + r.n, 0),
          activity: activity.rows.map((r) => `${r.state === 'active' ? '' : `${r.state} `}${r.state === 'idle' ? '' : r.wait} ${r.n}`.trim()).join(', '),
        });
      }
    })();
    const steadyTimer = setTimeout(() => (cpuSteadyStart = cpuSnapshot(groups)), STEADY_SKIP_SECONDS * 1000);

    log(`publishing ${fmt(EVENTS)} events at ${fmt(RATE)}/s to ${NAMES.eventsExchange} (NOTIFIER_CONCURRENCY=${concurrency}, WEBHOOK_MAX_PER_ENDPOINT=${perEndpoint}${POOL ? `, DATABASE_POOL_MAX=${POOL}` : ''})`);
    const publish = await publishEvents(channel, jobIds, RATE, callbackUrl, sent);
    clearTimeout(steadyTimer);
    cpuSteadyEnd = cpuSnapshot(groups);
    cpuSteadyStart ??= cpuSteadyEnd;
    const metricsSteady = await scrape(opsPort);
    const sendEndEpoch = Date.now();
    const steadyStartEpoch = publish.firstEpoch + STEADY_SKIP_SECONDS * 1000;

    // Drain: until everything arrived, or --drain-seconds after sending stopped.
    const drainDeadline = Date.now() + DRAIN_SECONDS * 1000;
    while (receiver.state.received - warmupReceived < EVENTS && Date.now() < drainDeadline) {
      assertAlive(notifier);
      await sleep(200);
    }
    const drainSeconds = (Date.now() - sendEndEpoch) / 1000;
    await sleep(1000); // late duplicates, and let the backends flush their table statistics
    sampling = false;
    await sampler;
    const metricsAfter = await scrape(opsPort);
    const pgUse = pgDelta(pgBefore, await pgCounters(db));
    // Stop the notifier (gracefully: unacked events go back to the queue) so what is left can be counted.
    await stopService(notifier);
    const leftInQueue = (await channel.checkQueue(NAMES.jobEventsQueue)).messageCount;

    // Duplicate webhooks (the same webhook-id received more than once), warm-up included.
    let duplicateRequests = 0;
    const duplicateSamples = [];
    for (const [id, seen] of receiver.state.byWebhookId) {
      if (seen.count === 1) continue;
      duplicateRequests += seen.count - 1;
      if (duplicateSamples.length < 3) duplicateSamples.push({ id, seen });
    }
    const sampleText = [];
    for (const { id, seen } of duplicateSamples) {
      const { rows } = await db.query(
        `select d.status, d.attempts, (select count(*)::int from "${SCHEMA}".webhook_attempts a where a.delivery_id = d.id) as logged from "${SCHEMA}".webhook_deliveries d where d.id = $1`,
        [id],
      );
      const gaps = seen.later.map((l) => `+${fmt((l.at - seen.firstAt) / 1000, 1)} s (webhook-timestamp ${l.timestamp} vs ${seen.timestamp})`).join(', ');
      sampleText.push(`${id}: again ${gaps}; row ${rows[0]?.status ?? '?'}, attempts ${rows[0]?.attempts ?? '?'}, ${rows[0]?.logged ?? '?'} logged`);
    }

    // Delivered exactly once, under one webhook-id, each?
    let delivered = 0;
    let duplicates = 0;
    let multiIds = 0;
    const delays = [];
    for (const [eventId] of sent) {
      const entry = receiver.state.byEvent.get(eventId);
      if (!entry) continue;
      delivered += 1;
      if (entry.arrivals > 1) duplicates += entry.arrivals - 1;
      if (entry.webhookIds.size > 1) multiIds += 1;
      delays.push(entry.delay);
    }
    delays.sort((a, b) => a - b);
    const allWebhookIds = new Set();
    for (const entry of receiver.state.byEvent.values()) for (const id of entry.webhookIds) allWebhookIds.add(id);

    // Sustained deliveries/s: arrivals of the load's events in the steady window (3 s after the first publish → last publish).
    const arrivals = receiver.state.arrivals.slice(warmupArrivals);
    const steadyArrivals = arrivals.filter((at) => at >= steadyStartEpoch && at <= sendEndEpoch).length;
    const steadySeconds = (sendEndEpoch - steadyStartEpoch) / 1000;
    const lastArrival = arrivals.at(-1) ?? NaN;
    const overall = delivered / ((lastArrival - publish.firstEpoch) / 1000);

    // Where the delay goes, from the delivery rows and attempts of this load.
    const { rows: splitRows } = await db.query(
      `select d.event_id, extract(epoch from d.created_at) * 1000 as created, extract(epoch from a.started_at) * 1000 as started, d.attempts, d.status, a.latency_ms
         from "${SCHEMA}".webhook_deliveries d left join "${SCHEMA}".webhook_attempts a on a.delivery_id = d.id and a.attempt = 1`,
    );
    const toRow = [];
    const rowToAttempt = [];
    const attemptToArrival = [];
    const statuses = {};
    let multiAttempt = 0;
    let loadRows = 0;
    let loadWaiting = 0;
    for (const r of splitRows) {
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.attempts > 1) multiAttempt += 1;
      const occurred = sent.get(r.event_id);
      if (occurred === undefined) continue;
      loadRows += 1;
      if (r.status === 'pending' || r.status === 'sending') loadWaiting += 1;
      const created = Number(r.created);
      toRow.push(created - occurred);
      if (r.started !== null) {
        rowToAttempt.push(Number(r.started) - created);
        const entry = receiver.state.byEvent.get(r.event_id);
        if (entry) attemptToArrival.push(entry.at - Number(r.started));
      }
    }
    for (const list of [toRow, rowToAttempt, attemptToArrival]) list.sort((a, b) => a - b);
    // Not delivered within the window is late, not lost, if its row waits or its event is still queued.
    const late = EVENTS - delivered;
    const lostEvents = Math.max(0, EVENTS - loadRows - leftInQueue);

    const diff = (name, filter = '') => metricSum(metricsAfter, name, filter) - metricSum(metricsBefore, name, filter);
    const attemptsCount = diff('conveyor_webhook_attempt_seconds_count');
    const attemptsSum = diff('conveyor_webhook_attempt_seconds_sum');
    const outcomes = {};
    for (const line of metricsAfter.split('\n')) {
      const match = /^conveyor_webhook_attempts_total\{[^}]*outcome="([^"]+)"[^}]*\} (\S+)/.exec(line);
      if (match) outcomes[match[1]] = Number(match[2]) - metricSum(metricsBefore, 'conveyor_webhook_attempts_total', `outcome="${match[1]}"`);
    }
    const queueLabel = `queue="${NAMES.jobEventsQueue}"`;
    const handled = diff('conveyor_message_processing_seconds_count', queueLabel);
    const handledSum = diff('conveyor_message_processing_seconds_sum', queueLabel);
    const readyMax = Math.max(0, ...timeline.map((s) => s.ready));
    const pendingMax = Math.max(0, ...timeline.map((s) => s.pending));
    const loopP99Max = Math.max(0, ...timeline.map((s) => s.loopP99));
    const deadLettered = (await channel.checkQueue(NAMES.deadLetterQueue)).messageCount;
    let retried = 0;
    for (const queue of NAMES.retryQueues) retried += (await channel.checkQueue(queue)).messageCount;

    return {
      concurrency,
      perEndpoint,
      publish,
      offered: EVENTS / publish.publishSeconds,
      steadyRate: steadyArrivals / steadySeconds,
      overall,
      delivered,
      duplicates,
      duplicateRequests,
      sampleText,
      late,
      lostEvents,
      loadWaiting,
      leftInQueue,
      multiIds,
      distinctWebhookIds: allWebhookIds.size,
      receivedTotal: receiver.state.received - warmupReceived,
      verified: receiver.state.verified,
      badSignatures: receiver.state.badSignatures,
      firstBad: receiver.state.firstBad,
      badBodies: receiver.state.badBodies,
      connections: receiver.state.connections,
      receivedAll: receiver.state.received,
      p50: percentile(delays, 50),
      p99: percentile(delays, 99),
      max: delays.at(-1),
      split: {
        toRow: [percentile(toRow, 50), percentile(toRow, 99)],
        rowToAttempt: [percentile(rowToAttempt, 50), percentile(rowToAttempt, 99)],
        attemptToArrival: [percentile(attemptToArrival, 50), percentile(attemptToArrival, 99)],
      },
      statuses,
      multiAttempt,
      drainSeconds,
      cpu: cpuSteadyEnd.since(cpuSteadyStart),
      failures: Object.entries(outcomes).filter(([k]) => k !== 'delivered').reduce((a, [, v]) => a + v, 0) + publish.nacked,
      outcomes,
      attemptMeanMs: (1000 * attemptsSum) / Math.max(1, attemptsCount),
      handled,
      handledMeanMs: (1000 * handledSum) / Math.max(1, handled),
      readyMax,
      pendingMax,
      loopP99Max,
      pg: pgUse,
      deadLettered,
      retried,
      timeline,
      logs: `${notifier.warnings}/${notifier.errors}`,
      lastLines: notifier.lines.slice(-3),
      metricsSteady,
    };
  } finally {
    await stopService(notifier);
    await receiver.close();
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
  })());
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping the notifier and cleaning up...`);
    cleanUp().finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  try {
    readFileSync(resolve(ROOT, 'services/notifier/dist/main.js'));
  } catch {
    throw new Error('services/notifier/dist/main.js is missing: build first (npx tsc -b services/notifier)');
  }
  console.log(
    `Webhook notifier benchmark — ${fmt(EVENTS)} events at ${fmt(RATE)}/s for ${SECONDS} s per run, prefix ${PREFIX}, schema ${SCHEMA}, ${CPU_COUNT} cores, node ${process.version}`,
  );
  const connection = await amqp.connect(AMQP_URL);
  connection.on('error', () => undefined);
  const channel = await connection.createConfirmChannel();
  channel.on('error', (error) => log(`bench channel error: ${error.message}`));
  const db = new pg.Client({ connectionString: DATABASE_URL });
  await db.connect();
  try {
    const rabbitVersion = connection.connection?.serverProperties?.version ?? '?';
    const pgVersion = (await db.query('show server_version')).rows[0].server_version;
    const syncCommit = (await db.query('show synchronous_commit')).rows[0].synchronous_commit;
    console.log(`RabbitMQ ${rabbitVersion}, PostgreSQL ${pgVersion} (synchronous_commit=${syncCommit})`);

    const runs = [];
    for (const concurrency of CONCURRENCIES) {
      const run = await runOnce({ db, channel, concurrency });
      runs.push(run);
      log(
        `NOTIFIER_CONCURRENCY=${concurrency}: ${fmt(run.steadyRate)} deliveries/s steady (offered ${fmt(run.offered)}/s), ${fmt(run.delivered)}/${fmt(EVENTS)} delivered, ` +
          `delay p50 ${fmt(run.p50)} ms p99 ${fmt(run.p99)} ms max ${fmt(run.max)} ms, drained ${fmt(run.drainSeconds, 1)} s after sending; CPU: ${formatCpu(run.cpu)}`,
      );
      if (run.firstBad) log(`first bad signature: ${run.firstBad}`);
      if (run.errors || run.logs !== '0/0') log(`notifier warn/error lines ${run.logs}; last: ${run.lastLines.join(' | ')}`);
    }

    printTable(
      `Deliveries (${fmt(RATE)} events/s offered for ${SECONDS} s, one receiver; steady window = ${STEADY_SKIP_SECONDS} s after the first publish → last publish)`,
      ['NOTIFIER_CONCURRENCY', 'offered/s', 'steady deliveries/s', 'overall/s', 'delivered', 'delay p50 ms', 'p99 ms', 'max ms', 'drain s', 'failed', 'dup webhooks', 'late / lost'],
      runs.map((r) => [
        `${r.concurrency} (per endpoint ${r.perEndpoint})`,
        fmt(r.offered),
        fmt(r.steadyRate),
        fmt(r.overall),
        `${fmt(r.delivered)}/${fmt(EVENTS)}`,
        fmt(r.p50),
        fmt(r.p99),
        fmt(r.max),
        fmt(r.drainSeconds, 1),
        r.failures,
        r.duplicateRequests,
        `${fmt(r.late)} / ${fmt(r.lostEvents)}`,
      ]),
    );

    printTable(
      'Where the delay goes (p50 / p99 ms): publish → delivery row created → first attempt started → webhook received',
      ['NOTIFIER_CONCURRENCY', 'event → row', 'row → attempt', 'attempt → arrival', 'attempt mean ms (/metrics)', 'job-event handling mean ms', 'queue ready max', 'pending rows max', 'loop p99 max ms'],
      runs.map((r) => [
        r.concurrency,
        `${fmt(r.split.toRow[0])} / ${fmt(r.split.toRow[1])}`,
        `${fmt(r.split.rowToAttempt[0])} / ${fmt(r.split.rowToAttempt[1])}`,
        `${fmt(r.split.attemptToArrival[0])} / ${fmt(r.split.attemptToArrival[1])}`,
        fmt(r.attemptMeanMs, 1),
        fmt(r.handledMeanMs, 1),
        fmt(r.readyMax),
        fmt(r.pendingMax),
        fmt(r.loopP99Max * 1000, 1),
      ]),
    );

    printTable(
      'CPU in % of one core over the steady window',
      ['NOTIFIER_CONCURRENCY', 'notifier', 'postgres', 'rabbitmq', 'bench (publisher + receiver)', 'irq', 'others', 'machine'],
      runs.map((r) => [
        r.concurrency,
        fmt(r.cpu.notifier),
        fmt(r.cpu.postgres),
        fmt(r.cpu.rabbitmq),
        fmt(r.cpu.bench),
        fmt(r.cpu.irq),
        fmt(r.cpu.others),
        `${fmt(r.cpu.machine)} / ${CPU_COUNT * 100}`,
      ]),
    );

    const per = (r, n) => fmt(n / Math.max(1, r.handled), 2);
    const row = (r, table, key) => r.pg.rows[table]?.[key] ?? 0;
    printTable(
      'PostgreSQL work per delivery (whole measured load incl. drain; commits are database-wide, so other users of the database add to them)',
      ['NOTIFIER_CONCURRENCY', 'commits', 'WAL syncs', 'WAL records', 'deliveries ins', 'deliveries upd', 'deliveries scans', 'attempts ins', 'gone_urls scans', 'secrets scans'],
      runs.map((r) => [
        r.concurrency,
        per(r, r.pg.commits),
        per(r, r.pg.walSyncs),
        per(r, r.pg.walRecords),
        per(r, row(r, 'webhook_deliveries', 'ins')),
        per(r, row(r, 'webhook_deliveries', 'upd')),
        per(r, row(r, 'webhook_deliveries', 'scans')),
        per(r, row(r, 'webhook_attempts', 'ins')),
        per(r, row(r, 'webhook_gone_urls', 'scans')),
        per(r, row(r, 'webhook_secrets', 'scans')),
      ]),
    );

    for (const r of runs) {
      printTable(
        `Timeline, NOTIFIER_CONCURRENCY=${r.concurrency} (per ~1 s)`,
        ['t (s)', 'received', 'job-events ready', 'pending rows', 'sending rows', 'delivered rows', 'loop p99 ms', 'PG conns busy/open', 'busy conns: state wait_event (pg_stat_activity)'],
        r.timeline.map((s) => [fmt(s.t, 1), fmt(s.received), fmt(s.ready), fmt(s.pending), fmt(s.sending), fmt(s.delivered), fmt(s.loopP99 * 1000, 1), `${s.busy}/${s.connections}`, s.activity.split(', ').filter((x) => !/^idle \d/.test(x)).join(', ')]),
      );
      console.log(
        `outcomes ${JSON.stringify(r.outcomes)}; delivery rows ${JSON.stringify(r.statuses)}, ${r.multiAttempt} with >1 attempt; ` +
          `publish: ${fmt(r.publish.confirmed)} confirmed, ${r.publish.nacked} nacked, max ${fmt(r.publish.maxUnconfirmed)} unconfirmed, max ${r.publish.lagMax} due per tick; ` +
          `retry tiers ${r.retried}, dead-lettered ${r.deadLettered}; receiver connections ${fmt(r.connections)} for ${fmt(r.receivedAll)} requests; ` +
          `signatures verified ${fmt(r.verified)}, bad ${r.badSignatures}; distinct webhook-ids ${fmt(r.distinctWebhookIds)}, events under >1 id ${r.multiIds}; notifier warn/error lines ${r.logs}`,
      );
      if (r.sampleText.length > 0) console.log(`duplicate webhooks (${r.duplicateRequests} requests), e.g.:\n  ${r.sampleText.join('\n  ')}`);
    }

    const noisy = runs.filter((r) => r.cpu.others > 20);
    if (noisy.length > 0) {
      console.log(
        `\nWARNING: other processes on this machine used CPU during the run (${noisy.map((r) => `concurrency ${r.concurrency}: ${fmt(r.cpu.others)}% of a core`).join(', ')}); those figures are lower than on an idle machine.`,
      );
    }

    const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
    const summary = [];
    for (const r of runs) {
      summary.push([`Deliveries/s sustained, NOTIFIER_CONCURRENCY=${r.concurrency}`, fmt(r.steadyRate), `≥ ${fmt(TARGETS.perSecond)}`, verdict(r.steadyRate >= TARGETS.perSecond)]);
      summary.push([`Delay p99 (status change → webhook), NOTIFIER_CONCURRENCY=${r.concurrency} (ms)`, `${fmt(r.p99)} (p50 ${fmt(r.p50)}, max ${fmt(r.max)})`, `< ${TARGETS.p99Ms}`, verdict(r.p99 < TARGETS.p99Ms && r.late === 0)]);
      summary.push([
        `Delivered within ${DRAIN_SECONDS} s of the end of sending, NOTIFIER_CONCURRENCY=${r.concurrency}`,
        `${fmt(r.delivered)}/${fmt(EVENTS)}${r.late ? ` (${fmt(r.loadWaiting)} rows waiting, ${fmt(r.leftInQueue)} events queued)` : ''}`,
        'all',
        verdict(r.late === 0),
      ]);
      summary.push([`No event lost (delivered, row waiting or still queued), NOTIFIER_CONCURRENCY=${r.concurrency}`, `${fmt(r.lostEvents)} lost`, '0', verdict(r.lostEvents === 0)]);
      summary.push([
        `Each webhook received once (by webhook-id, one id per event), NOTIFIER_CONCURRENCY=${r.concurrency}`,
        `${r.duplicateRequests} duplicate requests, ${r.multiIds} events under >1 id`,
        '0',
        verdict(r.duplicateRequests === 0 && r.duplicates === 0 && r.multiIds === 0),
      ]);
      summary.push([`Failed attempts / nacked publishes, NOTIFIER_CONCURRENCY=${r.concurrency}`, `${r.failures}`, '0', verdict(r.failures === 0)]);
      summary.push([`Signatures valid (independent HMAC), NOTIFIER_CONCURRENCY=${r.concurrency}`, `${fmt(r.verified)}/${fmt(r.verified + r.badSignatures)}`, 'all', verdict(r.badSignatures === 0 && r.verified > 0)]);
    }
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
