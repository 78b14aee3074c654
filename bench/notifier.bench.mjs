// Benchmark: the webhook notifier alone — job events in, signed webhooks out to a local receiver.
//
//   cd /work/main && npx tsc -b services/notifier && flock /tmp/conveyor-bench.lock node bench/notifier.bench.mjs
//
// Options: --rate R              job events offered per second (default 1200)
//          --seconds S           length of the offered load (default 20)
//          --concurrency 200,500 NOTIFIER_CONCURRENCY of the runs, one fresh notifier process each
//          --per-endpoint P      WEBHOOK_MAX_PER_ENDPOINT (default: the run's NOTIFIER_CONCURRENCY, so the
//                                single receiver origin is not capped below the concurrency)
//          --pool P              DATABASE_POOL_MAX of the notifier (default: the service's own, 10)
//          --drain-seconds D     how long to wait for the backlog after sending stops (default 30)
//          --warmup-seconds W    warm-up before the measured load, at the offered rate (default 5; 0.5 s at least)
//          --trace-gc            run the notifier with --trace-gc and list its GC pauses of ≥ 20 ms
//          --node-args "A B"     extra node options for the notifier (experiments: --cpu-prof, heap flags)
//          --explain             after each run, the plans and timings of the statements every poll runs, on the
//                                table the run leaves (each in a transaction rolled back)
//          --series              print the delay per half second of publishing (p50/p99 by publish time,
//                                and the event → row / row → attempt split), next to WAL full-page images
//                                and checkpoints per second
//
// What it does, per NOTIFIER_CONCURRENCY:
//   - starts `node services/notifier/dist/main.js` (which migrates the schema and declares its topology);
//   - inserts one `jobs` row per event to come (webhook_deliveries.job_id references jobs.id), with
//     callback_url pointing at a receiver in this process (node:http on 127.0.0.1, keep-alive, 200 at once);
//   - warm-up: W seconds (default 5) of the offered rate, waited for, not counted: a fresh notifier
//     process starts each run, and a running service is warm (JIT tiers, V8's young generation grown
//     to its working size, connection pools and plans); with 1,000 events at 500/s the first 1–2 s of
//     the first run were slower (p99 140–530 ms). After it the bench waits for every warm-up webhook
//     and 0.5 s more, so the measured load starts from idle, and every event of it counts in the p99;
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
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { argument, flag, numberList } from './lib/args.mjs';
import { cpuCells, cpuGroups, cpuSnapshot, CPU_COUNT, formatCpu } from './lib/cpu.mjs';
import { connectBackends, parkedMessages, versionsLine } from './lib/backends.mjs';
import { freePort } from './lib/http.mjs';
import { cleanUpOnce, isolate, runBenchmark } from './lib/isolation.mjs';
import { metricSum, scrapeOrEmpty as scrape } from './lib/metrics.mjs';
import { fmt, log, printTable } from './lib/output.mjs';
import {
  assertAlive,
  assertBuilt,
  startService,
  stopService,
  waitForStatus,
  waitForSubscriber,
} from './lib/services.mjs';
import { counterDelta, percentile } from './lib/stats.mjs';

// ---------------------------------------------------------------------------------------------
// Settings

const RATE = numberList('rate', [1200])[0];
const SECONDS = numberList('seconds', [20])[0];
const CONCURRENCIES = numberList('concurrency', [200, 500]);
const PER_ENDPOINT = numberList('per-endpoint', [])[0];
const POOL = numberList('pool', [])[0];
const DRAIN_SECONDS = numberList('drain-seconds', [30])[0];
const WARMUP_SECONDS = Math.max(0.5, numberList('warmup-seconds', [5])[0]);
const TRACE_GC = flag('trace-gc');
const NODE_ARGS = (argument('node-args') ?? '').split(' ').filter(Boolean);
const SERIES = flag('series');
/** Width of one interval of the delay series, by publish time (ms). */
const SERIES_MS = 500;
const STEADY_SKIP_SECONDS = Math.min(3, SECONDS / 4);
const EVENTS = Math.round(RATE * SECONDS);
const WARMUP_EVENTS = Math.round(RATE * WARMUP_SECONDS);
const TARGETS = { perSecond: 1000, p99Ms: 100 };

const CORNER = isolate();
const { prefix: PREFIX, schema: SCHEMA, databaseUrl: DATABASE_URL } = CORNER;
const SECRET_KEY = randomBytes(32);
const WEBHOOK_SECRET = `whsec_${SECRET_KEY.toString('base64')}`;
const NAMES = CORNER.names;
/** The queues purged between runs. */
const ALL_QUEUES = [NAMES.jobEventsQueue, NAMES.deadLetterQueue, ...NAMES.retryQueues];

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
    close: () =>
      new Promise((ok) => {
        server.closeAllConnections?.();
        server.close(() => ok());
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// Which PostgreSQL backends are the notifier's

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
      if (fields[2].endsWith(':1538') && inodes.has(fields[9]))
        ports.push(parseInt(fields[1].split(':')[1], 16));
    }
  }
  return ports;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL counters (the whole database for commits, the cluster for WAL, this schema for row writes)

async function pgCounters(db) {
  const [database] = (
    await db.query(
      `select xact_commit::bigint as commits, xact_rollback::bigint as rollbacks from pg_stat_database where datname = current_database()`,
    )
  ).rows;
  const [wal] = (
    await db.query(
      `select wal_records::bigint as records, wal_sync::bigint as syncs, wal_fpi::bigint as fpi, wal_bytes::bigint as bytes from pg_stat_wal`,
    )
  ).rows;
  const [bgwriter] = (
    await db.query(
      `select (checkpoints_timed + checkpoints_req)::bigint as checkpoints, buffers_checkpoint::bigint as buffers from pg_stat_bgwriter`,
    )
  ).rows;
  const tables = (
    await db.query(
      `select relname, n_tup_ins::bigint as ins, n_tup_upd::bigint as upd, seq_scan::bigint as seq, coalesce(idx_scan, 0)::bigint as idx
         from pg_stat_user_tables where schemaname = $1`,
      [SCHEMA],
    )
  ).rows;
  const rows = {};
  for (const t of tables)
    rows[t.relname] = { ins: Number(t.ins), upd: Number(t.upd), scans: Number(t.seq) + Number(t.idx) };
  return {
    commits: Number(database.commits),
    walRecords: Number(wal.records),
    walSyncs: Number(wal.syncs),
    walFpi: Number(wal.fpi),
    walBytes: Number(wal.bytes),
    checkpoints: Number(bgwriter.checkpoints),
    checkpointBuffers: Number(bgwriter.buffers),
    rows,
  };
}

/**
 * --explain: the plans and timings, on the table as the run left it, of the statements that run on
 * every poll whatever the load (the dispatcher's straggler and claim statements, the sampler's count),
 * each in a transaction rolled back.
 */
async function explainPolls(db) {
  const statements = {
    'gone stragglers (claimDue)': `update "${SCHEMA}".webhook_deliveries set status = 'gone', updated_at = now() where status = 'pending' and url in (select url from "${SCHEMA}".webhook_gone_urls)`,
    // As DeliveryStore.claimDue writes it (keep in step).
    'claim (claimDue)': `with pending_due as (
        select d.id, d.next_attempt_at from "${SCHEMA}".webhook_deliveries d
         where d.status = 'pending' and d.next_attempt_at <= now()
           and not exists (select 1 from "${SCHEMA}".webhook_gone_urls g where g.url = d.url)
           and not exists (select 1 from "${SCHEMA}".webhook_deliveries o where o.job_id = d.job_id and o.sequence < d.sequence and o.status in ('pending', 'sending'))
         order by d.next_attempt_at limit 500 for update skip locked),
      lease_expired as (
        select d.id, d.next_attempt_at from "${SCHEMA}".webhook_deliveries d
         where d.status = 'sending' and d.lease_until < now()
           and not exists (select 1 from "${SCHEMA}".webhook_gone_urls g where g.url = d.url)
           and not exists (select 1 from "${SCHEMA}".webhook_deliveries o where o.job_id = d.job_id and o.sequence < d.sequence and o.status in ('pending', 'sending'))
         order by d.lease_until limit 500 for update skip locked),
      chosen as (select c.id from (select * from pending_due union all select * from lease_expired) c order by c.next_attempt_at limit 500)
      update "${SCHEMA}".webhook_deliveries set status = 'sending', lease_until = now() + interval '31 s', updated_at = now()
       where id in (select chosen.id from chosen) returning id`,
    'bench sampler: open rows': OPEN_ROWS_SQL,
  };
  const [size] = (
    await db.query(
      `select n_live_tup::int as live, n_dead_tup::int as dead from pg_stat_user_tables where schemaname = $1 and relname = 'webhook_deliveries'`,
      [SCHEMA],
    )
  ).rows;
  console.log(
    `\n--explain: webhook_deliveries ${fmt(size?.live ?? 0)} live, ${fmt(size?.dead ?? 0)} dead tuples`,
  );
  for (const [name, statement] of Object.entries(statements)) {
    await db.query('begin');
    try {
      // As DeliveryStore.claimDue runs them; the sampler's count with the planner's choice.
      if (!name.startsWith('bench')) await db.query('set local enable_bitmapscan = off');
      const { rows } = await db.query(`explain (analyze, buffers, costs off) ${statement}`);
      console.log(`${name}:\n  ${rows.map((r) => r['QUERY PLAN']).join('\n  ')}`);
    } finally {
      await db.query('rollback');
    }
  }
}

/**
 * Open delivery rows by status, each second: only pending and sending rows, through their partial
 * indexes (a count of every row read the whole table, tens of ms a second of the PostgreSQL CPU
 * being measured by the end of a run). With the planner's own choice of scan: a plain index scan
 * would mark dead index entries for the notifier's statements, helping what is measured.
 */
const OPEN_ROWS_SQL = `select (select count(*) from "${SCHEMA}".webhook_deliveries where status = 'pending')::int as pending,
    (select count(*) from "${SCHEMA}".webhook_deliveries where status = 'sending')::int as sending`;

async function openRows(db) {
  return (await db.query(OPEN_ROWS_SQL)).rows[0];
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
            result: {
              number: String(1000000 + next),
              factors: ['2', '2', '2', '2', '2', '2', '5', '5', '5', '5', '5', '5'],
            },
            error: null,
            callbackUrl,
            occurredAt: now.toISOString(),
          };
          const correlationId = randomUUID();
          const envelope = {
            messageId: randomUUID(),
            kind: 'job.event',
            version: 1,
            createdAt: now.toISOString(),
            attempt: 0,
            correlationId,
            payload,
          };
          sent.set(eventId, now.getTime());
          channel.publish(
            NAMES.eventsExchange,
            'job.factorize.succeeded',
            Buffer.from(JSON.stringify(envelope)),
            {
              persistent: true,
              messageId: eventId,
              correlationId,
              type: 'job.event',
              contentType: 'application/json',
              timestamp: Math.floor(now.getTime() / 1000),
            },
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
  await db.query(
    `truncate "${SCHEMA}".webhook_attempts, "${SCHEMA}".webhook_deliveries, "${SCHEMA}".jobs cascade`,
  );
}

async function runOnce({ db, channel, concurrency }) {
  const receiver = startReceiver();
  const receiverPort = await receiver.listen();
  const callbackUrl = `http://127.0.0.1:${receiverPort}/hooks/conveyor`;
  const opsPort = await freePort();
  const perEndpoint = PER_ENDPOINT ?? concurrency;
  const notifier = startService(
    'notifier',
    {
      ...CORNER.serviceEnv,
      OPS_PORT: String(opsPort),
      WEBHOOK_SECRET,
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      NOTIFIER_CONCURRENCY: String(concurrency),
      WEBHOOK_MAX_PER_ENDPOINT: String(perEndpoint),
      ...(POOL ? { DATABASE_POOL_MAX: String(POOL) } : {}),
    },
    [...NODE_ARGS, ...(TRACE_GC ? ['--trace-gc'] : [])],
  );
  // GC pauses as the notifier reports them, stamped on arrival (stdout is read at once).
  const gcPauses = [];
  if (TRACE_GC) {
    notifier.child.stdout.on('data', (chunk) => {
      if (process.env.BENCH_GC_LOG)
        appendFileSync(
          process.env.BENCH_GC_LOG,
          chunk
            .toString('utf8')
            .split('\n')
            .filter((l) => l.includes(' ms: '))
            .map((l) => `${Date.now()} ${l}\n`)
            .join(''),
        );
      for (const match of chunk
        .toString('utf8')
        .matchAll(
          /(Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact)[^\n]*?MB, ([\d.]+) \/ ([\d.]+) ms/g,
        )) {
        gcPauses.push({ at: Date.now(), kind: match[1], ms: Number(match[2]) });
      }
    });
  }
  try {
    await waitForStatus(notifier, opsPort, '/readyz', 200);
    await waitForSubscriber(channel, NAMES.jobEventsQueue, 'the notifier', 'the job-events queue');
    await reset(db, channel);
    const sent = new Map(); // eventId → occurredAt epoch ms
    const warmupIds = await insertJobs(db, WARMUP_EVENTS, callbackUrl);
    const jobIds = await insertJobs(db, EVENTS, callbackUrl);
    await db.query(`analyze "${SCHEMA}".jobs`);

    // Warm-up (JIT, pools, broker channel): not counted.
    const warmSent = new Map();
    await publishEvents(channel, warmupIds, RATE, callbackUrl, warmSent);
    for (let i = 0; receiver.state.received < WARMUP_EVENTS && i < 200; i += 1) await sleep(100);
    const warmupReceived = receiver.state.received;
    const warmupArrivals = receiver.state.arrivals.length;
    const warmupDelays = [...warmSent.keys()]
      .flatMap((id) => receiver.state.byEvent.get(id)?.delay ?? [])
      .sort((a, b) => a - b);
    log(
      `warm-up: ${fmt(warmupDelays.length)}/${fmt(WARMUP_EVENTS)} delivered, delay p50 ${fmt(percentile(warmupDelays, 50))} ms p99 ${fmt(percentile(warmupDelays, 99))} ms (not counted)`,
    );
    await sleep(500);

    const groups = cpuGroups({ notifier });
    const metricsBefore = await scrape(opsPort);
    const pgBefore = await pgCounters(db);
    let walLast = pgBefore;
    let cpuLast = cpuSnapshot(groups);

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
        // The WAL counters after the others: they share the bench's one PostgreSQL client.
        const [queue, text, activity] = await Promise.all([
          channel.checkQueue(NAMES.jobEventsQueue),
          scrape(opsPort),
          db.query(
            `select state, coalesce(wait_event, 'cpu') as wait, count(*)::int as n from pg_stat_activity where client_port = any($1::int[]) group by 1, 2 order by 3 desc`,
            [ports],
          ),
        ]);
        const states = await openRows(db);
        const walNow = await pgCounters(db);
        const walDelta = counterDelta(walLast, walNow);
        walLast = walNow;
        const cpuNow = cpuSnapshot(groups);
        const cpu = cpuNow.since(cpuLast, { skipNewPids: true });
        cpuLast = cpuNow;
        timeline.push({
          t,
          at: Date.now(),
          fpi: walDelta.walFpi,
          walMb: walDelta.walBytes / 1e6,
          checkpoints: walDelta.checkpoints,
          checkpointBuffers: walDelta.checkpointBuffers,
          cpu,
          received: receiver.state.received - warmupReceived,
          ready: queue.messageCount,
          pending: states.pending,
          sending: states.sending,
          loopP99: metricSum(text, 'nodejs_eventloop_lag_p99_seconds'),
          connections: ports.length,
          busy: activity.rows.filter((r) => r.state !== 'idle').reduce((a, r) => a + r.n, 0),
          activity: activity.rows
            .map((r) =>
              `${r.state === 'active' ? '' : `${r.state} `}${r.state === 'idle' ? '' : r.wait} ${r.n}`.trim(),
            )
            .join(', '),
        });
      }
    })();
    const steadyTimer = setTimeout(() => (cpuSteadyStart = cpuSnapshot(groups)), STEADY_SKIP_SECONDS * 1000);

    log(
      `publishing ${fmt(EVENTS)} events at ${fmt(RATE)}/s to ${NAMES.eventsExchange} (NOTIFIER_CONCURRENCY=${concurrency}, WEBHOOK_MAX_PER_ENDPOINT=${perEndpoint}${POOL ? `, DATABASE_POOL_MAX=${POOL}` : ''})`,
    );
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
    const pgUse = counterDelta(pgBefore, await pgCounters(db));
    // Stop the notifier (gracefully: unacked events go back to the queue) so what is left can be counted.
    await stopService(notifier);
    const leftInQueue = (await channel.checkQueue(NAMES.jobEventsQueue)).messageCount;
    if (flag('explain')) await explainPolls(db);

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
      const gaps = seen.later
        .map(
          (l) =>
            `+${fmt((l.at - seen.firstAt) / 1000, 1)} s (webhook-timestamp ${l.timestamp} vs ${seen.timestamp})`,
        )
        .join(', ');
      sampleText.push(
        `${id}: again ${gaps}; row ${rows[0]?.status ?? '?'}, attempts ${rows[0]?.attempts ?? '?'}, ${rows[0]?.logged ?? '?'} logged`,
      );
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
    for (const entry of receiver.state.byEvent.values())
      for (const id of entry.webhookIds) allWebhookIds.add(id);

    // Sustained deliveries/s: arrivals of the load's events in the steady window (3 s after the first publish → last publish).
    const arrivals = receiver.state.arrivals.slice(warmupArrivals);
    const steadyArrivals = arrivals.filter((at) => at >= steadyStartEpoch && at <= sendEndEpoch).length;
    const steadySeconds = (sendEndEpoch - steadyStartEpoch) / 1000;
    const lastArrival = arrivals.at(-1) ?? NaN;
    const overall = delivered / ((lastArrival - publish.firstEpoch) / 1000);

    // The delay per interval of publish time: where in the run the slow events were sent.
    const seriesBuckets = new Map();
    const seriesBucket = (occurred) => {
      const index = Math.floor((occurred - publish.firstEpoch) / SERIES_MS);
      let bucket = seriesBuckets.get(index);
      if (!bucket) seriesBuckets.set(index, (bucket = { index, delays: [], toRow: [], rowToAttempt: [] }));
      return bucket;
    };

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
      const bucket = seriesBucket(occurred);
      bucket.toRow.push(created - occurred);
      const entry = receiver.state.byEvent.get(r.event_id);
      if (entry) bucket.delays.push(entry.delay);
      if (r.started !== null) {
        rowToAttempt.push(Number(r.started) - created);
        bucket.rowToAttempt.push(Number(r.started) - created);
        if (entry) attemptToArrival.push(entry.at - Number(r.started));
      }
    }
    for (const list of [toRow, rowToAttempt, attemptToArrival]) list.sort((a, b) => a - b);
    const series = [...seriesBuckets.values()]
      .sort((a, b) => a.index - b.index)
      .map((b) => {
        for (const list of [b.delays, b.toRow, b.rowToAttempt]) list.sort((x, y) => x - y);
        const from = publish.firstEpoch + b.index * SERIES_MS;
        const during = (at) => at >= from && at < from + SERIES_MS;
        return {
          t: (b.index * SERIES_MS) / 1000,
          n: b.delays.length,
          p50: percentile(b.delays, 50),
          p99: percentile(b.delays, 99),
          max: b.delays.at(-1),
          toRow: percentile(b.toRow, 99),
          rowToAttempt: percentile(b.rowToAttempt, 99),
          gc: gcPauses
            .filter((g) => during(g.at) && g.ms >= 5)
            .map((g) => `${g.kind} ${fmt(g.ms, 0)}`)
            .join(', '),
          // The sample taken within the second after this interval started (WAL and checkpoint counters are per second).
          sample: timeline.find((x) => x.at >= from && x.at < from + 1000),
        };
      });
    // Not delivered within the window is late, not lost, if its row waits or its event is still queued.
    const late = EVENTS - delivered;
    const lostEvents = Math.max(0, EVENTS - loadRows - leftInQueue);

    const diff = (name, filter = '') =>
      metricSum(metricsAfter, name, filter) - metricSum(metricsBefore, name, filter);
    const attemptsCount = diff('conveyor_webhook_attempt_seconds_count');
    const attemptsSum = diff('conveyor_webhook_attempt_seconds_sum');
    const outcomes = {};
    for (const line of metricsAfter.split('\n')) {
      const match = /^conveyor_webhook_attempts_total\{[^}]*outcome="([^"]+)"[^}]*\} (\S+)/.exec(line);
      if (match)
        outcomes[match[1]] =
          Number(match[2]) -
          metricSum(metricsBefore, 'conveyor_webhook_attempts_total', `outcome="${match[1]}"`);
    }
    const queueLabel = `queue="${NAMES.jobEventsQueue}"`;
    const handled = diff('conveyor_message_processing_seconds_count', queueLabel);
    const handledSum = diff('conveyor_message_processing_seconds_sum', queueLabel);
    const readyMax = Math.max(0, ...timeline.map((s) => s.ready));
    const pendingMax = Math.max(0, ...timeline.map((s) => s.pending));
    const loopP99Max = Math.max(0, ...timeline.map((s) => s.loopP99));
    const { deadLettered, retried } = await parkedMessages(channel, NAMES);

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
      // New pids (PostgreSQL backends opened in the window) count from 0, not their whole life.
      cpu: cpuSteadyEnd.since(cpuSteadyStart, { skipNewPids: true }),
      failures:
        Object.entries(outcomes)
          .filter(([k]) => k !== 'delivered')
          .reduce((a, [, v]) => a + v, 0) + publish.nacked,
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
      series,
      gcPauses,
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

const cleanUp = cleanUpOnce(CORNER);

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  assertBuilt(['notifier'], 'npx tsc -b services/notifier');
  console.log(
    `Webhook notifier benchmark — ${fmt(EVENTS)} events at ${fmt(RATE)}/s for ${SECONDS} s per run after a ${fmt(WARMUP_SECONDS, 1)} s warm-up at the same rate, prefix ${PREFIX}, schema ${SCHEMA}, ${CPU_COUNT} cores, node ${process.version}`,
  );
  const backends = await connectBackends(DATABASE_URL, {
    confirm: true,
    onChannelError: (error) => log(`bench channel error: ${error.message}`),
  });
  const { channel, db } = backends;
  try {
    console.log(await versionsLine(backends, { synchronousCommit: true }));

    const runs = [];
    for (const concurrency of CONCURRENCIES) {
      const run = await runOnce({ db, channel, concurrency });
      runs.push(run);
      log(
        `NOTIFIER_CONCURRENCY=${concurrency}: ${fmt(run.steadyRate)} deliveries/s steady (offered ${fmt(run.offered)}/s), ${fmt(run.delivered)}/${fmt(EVENTS)} delivered, ` +
          `delay p50 ${fmt(run.p50)} ms p99 ${fmt(run.p99)} ms max ${fmt(run.max)} ms, drained ${fmt(run.drainSeconds, 1)} s after sending; CPU: ${formatCpu(run.cpu)}`,
      );
      if (run.firstBad) log(`first bad signature: ${run.firstBad}`);
      if (run.errors || run.logs !== '0/0')
        log(`notifier warn/error lines ${run.logs}; last: ${run.lastLines.join(' | ')}`);
    }

    printTable(
      `Deliveries (${fmt(RATE)} events/s offered for ${SECONDS} s, one receiver; steady window = ${STEADY_SKIP_SECONDS} s after the first publish → last publish)`,
      [
        'NOTIFIER_CONCURRENCY',
        'offered/s',
        'steady deliveries/s',
        'overall/s',
        'delivered',
        'delay p50 ms',
        'p99 ms',
        'max ms',
        'drain s',
        'failed',
        'dup webhooks',
        'late / lost',
      ],
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
      [
        'NOTIFIER_CONCURRENCY',
        'event → row',
        'row → attempt',
        'attempt → arrival',
        'attempt mean ms (/metrics)',
        'job-event handling mean ms',
        'queue ready max',
        'pending rows max',
        'loop p99 max ms',
      ],
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
      [
        'NOTIFIER_CONCURRENCY',
        'notifier',
        'postgres',
        'rabbitmq',
        'bench (publisher + receiver)',
        'irq',
        'others',
        'machine',
      ],
      runs.map((r) => [
        r.concurrency,
        ...cpuCells(r.cpu, ['notifier', 'postgres', 'rabbitmq', 'bench', 'irq', 'others']),
      ]),
    );

    const per = (r, n) => fmt(n / Math.max(1, r.handled), 2);
    const row = (r, table, key) => r.pg.rows[table]?.[key] ?? 0;
    printTable(
      'PostgreSQL work per delivery (whole measured load incl. drain; commits are database-wide, so other users of the database add to them)',
      [
        'NOTIFIER_CONCURRENCY',
        'commits',
        'WAL syncs',
        'WAL records',
        'deliveries ins',
        'deliveries upd',
        'deliveries scans',
        'attempts ins',
        'gone_urls scans',
        'secrets scans',
      ],
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
        [
          't (s)',
          'received',
          'job-events ready',
          'pending rows',
          'sending rows',
          'loop p99 ms',
          'CPU % notifier / postgres / rabbitmq / bench / others',
          'PG conns busy/open',
          'busy conns: state wait_event (pg_stat_activity)',
        ],
        r.timeline.map((s) => [
          fmt(s.t, 1),
          fmt(s.received),
          fmt(s.ready),
          fmt(s.pending),
          fmt(s.sending),
          fmt(s.loopP99 * 1000, 1),
          ['notifier', 'postgres', 'rabbitmq', 'bench', 'others'].map((k) => fmt(s.cpu[k])).join(' / '),
          `${s.busy}/${s.connections}`,
          s.activity
            .split(', ')
            .filter((x) => !/^idle \d/.test(x))
            .join(', '),
        ]),
      );
      if (SERIES) {
        printTable(
          `Delay by publish time, NOTIFIER_CONCURRENCY=${r.concurrency} (per ${SERIES_MS} ms; WAL and checkpoint figures from the 1 s sample taken in that interval)`,
          [
            't (s)',
            'events',
            'p50 ms',
            'p99 ms',
            'max ms',
            'event → row p99',
            'row → attempt p99',
            'GC ≥ 5 ms',
            'WAL MB/s',
            'WAL FPI/s',
            'checkpoint buffers/s',
            'loop p99 ms',
          ],
          r.series.map((b) => [
            fmt(b.t, 1),
            fmt(b.n),
            fmt(b.p50),
            fmt(b.p99),
            fmt(b.max),
            fmt(b.toRow),
            fmt(b.rowToAttempt),
            b.gc,
            b.sample ? fmt(b.sample.walMb, 1) : '',
            b.sample ? fmt(b.sample.fpi) : '',
            b.sample ? `${fmt(b.sample.checkpointBuffers)}${b.sample.checkpoints ? ' (ended)' : ''}` : '',
            b.sample ? fmt(b.sample.loopP99 * 1000, 1) : '',
          ]),
        );
      }
      if (TRACE_GC) {
        const pauses = r.gcPauses.map((g) => g.ms).sort((a, b) => a - b);
        const long = r.gcPauses.filter((g) => g.ms >= 20);
        console.log(
          `GC (whole run incl. warm-up): ${pauses.length} pauses, p99 ${fmt(percentile(pauses, 99), 1)} ms, max ${fmt(pauses.at(-1) ?? 0, 1)} ms; ≥ 20 ms: ${long.map((g) => `${g.kind} ${fmt(g.ms, 0)} ms at +${fmt((g.at - r.publish.firstEpoch) / 1000, 1)} s`).join(', ') || 'none'}`,
        );
      }
      console.log(
        `outcomes ${JSON.stringify(r.outcomes)}; delivery rows ${JSON.stringify(r.statuses)}, ${r.multiAttempt} with >1 attempt; ` +
          `publish: ${fmt(r.publish.confirmed)} confirmed, ${r.publish.nacked} nacked, max ${fmt(r.publish.maxUnconfirmed)} unconfirmed, max ${r.publish.lagMax} due per tick; ` +
          `retry tiers ${r.retried}, dead-lettered ${r.deadLettered}; receiver connections ${fmt(r.connections)} for ${fmt(r.receivedAll)} requests; ` +
          `signatures verified ${fmt(r.verified)}, bad ${r.badSignatures}; distinct webhook-ids ${fmt(r.distinctWebhookIds)}, events under >1 id ${r.multiIds}; notifier warn/error lines ${r.logs}`,
      );
      if (r.sampleText.length > 0)
        console.log(
          `duplicate webhooks (${r.duplicateRequests} requests), e.g.:\n  ${r.sampleText.join('\n  ')}`,
        );
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
      summary.push([
        `Deliveries/s sustained, NOTIFIER_CONCURRENCY=${r.concurrency}`,
        fmt(r.steadyRate),
        `≥ ${fmt(TARGETS.perSecond)}`,
        verdict(r.steadyRate >= TARGETS.perSecond),
      ]);
      summary.push([
        `Delay p99 (status change → webhook), NOTIFIER_CONCURRENCY=${r.concurrency} (ms)`,
        `${fmt(r.p99)} (p50 ${fmt(r.p50)}, max ${fmt(r.max)})`,
        `< ${TARGETS.p99Ms}`,
        verdict(r.p99 < TARGETS.p99Ms && r.late === 0),
      ]);
      summary.push([
        `Delivered within ${DRAIN_SECONDS} s of the end of sending, NOTIFIER_CONCURRENCY=${r.concurrency}`,
        `${fmt(r.delivered)}/${fmt(EVENTS)}${r.late ? ` (${fmt(r.loadWaiting)} rows waiting, ${fmt(r.leftInQueue)} events queued)` : ''}`,
        'all',
        verdict(r.late === 0),
      ]);
      summary.push([
        `No event lost (delivered, row waiting or still queued), NOTIFIER_CONCURRENCY=${r.concurrency}`,
        `${fmt(r.lostEvents)} lost`,
        '0',
        verdict(r.lostEvents === 0),
      ]);
      summary.push([
        `Each webhook received once (by webhook-id, one id per event), NOTIFIER_CONCURRENCY=${r.concurrency}`,
        `${r.duplicateRequests} duplicate requests, ${r.multiIds} events under >1 id`,
        '0',
        verdict(r.duplicateRequests === 0 && r.duplicates === 0 && r.multiIds === 0),
      ]);
      summary.push([
        `Failed attempts / nacked publishes, NOTIFIER_CONCURRENCY=${r.concurrency}`,
        `${r.failures}`,
        '0',
        verdict(r.failures === 0),
      ]);
      summary.push([
        `Signatures valid (independent HMAC), NOTIFIER_CONCURRENCY=${r.concurrency}`,
        `${fmt(r.verified)}/${fmt(r.verified + r.badSignatures)}`,
        'all',
        verdict(r.badSignatures === 0 && r.verified > 0),
      ]);
    }
    printTable('Summary', ['Figure', 'Measured', 'Target', 'Result'], summary);
  } finally {
    await backends.close();
    await cleanUp();
  }
}

runBenchmark(main, cleanUp, 'the notifier');
