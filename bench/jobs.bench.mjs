// Benchmark: small jobs end to end, one producer process and one consumer process: the built-in
// `factorize` kind, and `noop`, a job module hosted through the worker SDK (bench/fixtures/noop-job.mjs,
// a `run` that returns at once), to show what the SDK and the module host cost against the built-in path.
// And, as yardsticks, the same noop work through BullMQ and pg-boss (bench/lib/peers.mjs, bench/peers/):
// {"kind":"noop","input":{}} posted to an express producer of their own that answers 202 once the
// job is durably accepted, one worker process whose handler returns at once; they compare with
// Conveyor's `noop` kind. BullMQ 6 runs on a private redis-server with AOF (`appendfsync always`,
// and separately `everysec`); pg-boss in a schema of its own on the shared PostgreSQL. pg-boss is
// 10.4.2, the newest that runs on this repository's Node 20, not the current 12 (11 needs Node 22,
// 12 Node 22.12): a figure of pg-boss 12 elsewhere need not match this one.
//
//   cd /work/main && pnpm exec tsc -b && node bench/jobs.bench.mjs [--jobs 5000]
//
// Options: --jobs N            jobs per run (default 5000)
//          --clients 32,64     concurrent keep-alive HTTP clients to try in the submit-only phase
//          --concurrency 4,16,64  job-queue prefetch of the end-to-end runs: FACTORIZE_CONCURRENCY for
//                              factorize, the module's `concurrency` (NOOP_JOB_CONCURRENCY) for noop
//          --kind K            factorize, noop or both (default both): the job kind(s) of the end-to-end runs
//          --rounds R          end-to-end runs of each kind per concurrency, interleaved f, n, f, n
//                              (default 2 with --kind both, else 1); the peers run in the same rounds
//          --systems S         which systems to measure, of conveyor, bullmq-always, bullmq-everysec and
//                              pgboss, separated by commas (default all)
//          --pgboss-loops L    pg-boss's fetch loops (work() calls; default 4), each fetching
//                              concurrency ÷ L jobs at once
//          --workers W         FACTORIZE_WORKERS of the consumer (default: the consumer's own default, the CPU count)
//          --max-seconds S     bound of one run, from its first submit (default 40)
//          --profile DIR       diagnosis: run producer and consumer under `node --cpu-prof`, profiles in DIR
//          --async-commit      diagnosis: run against a throwaway database bench_<random> created with
//                              `synchronous_commit = off` (no WAL fsync wait at commit), to show how much
//                              of the figure is the disk's fsync; dropped at the end. Not a production setting.
//
// Phases:
//   1. Submit only: producer alone (no consumer), N × POST /v1/jobs {"kind":"factorize","input":{"number":"1000000+i"}}
//      from C clients, for each C of --clients: 202s per second and HTTP latency p50/p99. The better C
//      is used afterwards. Queues are purged and the tables truncated after each run.
//      Always factorize jobs: the producer's path for a registered kind differs only in its input check.
//      Before it, a warm-up of the producer with a few hundred jobs of each kind (for noop, after a
//      noop host has registered the kind and stopped again), wiped.
//   2. End to end, per concurrency and per kind (R rounds, kinds interleaved): a fresh consumer process
//      (for noop: WORKER_MODULES=<the fixture's file URL>, BUILT_IN_KINDS=false, and the run waits until
//      the producer accepts the kind), then N jobs submitted by the better C ({"kind":"noop","input":{}}
//      for noop); completion is read from the jobs table every 200 ms (a count), and at the end every
//      job's created_at / finished_at: end-to-end latency p50/p99, and jobs/s = N / (first submit →
//      last finished_at). Purged and truncated after each run, the consumer stopped.
//   3. With both kinds: noop ÷ factorize per concurrency (mean jobs/s and latency of the rounds, CPU
//      per job over all rounds), against the issue's bar "within 10 %": noop jobs/s ≥ 0.9 × factorize's
//      and CPU per job (producer + consumer + PostgreSQL + RabbitMQ) ≤ 1.1 × factorize's.
//   4. The peers, at the top --concurrency only (64 by default: their worker concurrency, BullMQ's
//      `concurrency` and pg-boss's loops × batch, equals Conveyor's prefetch), each round after
//      Conveyor's runs (f, n, bullmq-always, bullmq-everysec, pgboss, f, n, ...), by the same clients
//      as Conveyor's end-to-end runs. Each run starts the peer afresh (a new redis-server, a new
//      pg-boss schema), warms it up with 500 jobs, then measures N jobs exactly as phase 2 does:
//      jobs/s = N / (first submit → last finish), latency from each job's own created / finished
//      times (BullMQ: `timestamp` / `finishedOn`; pg-boss: created_on / completed_on), CPU per job
//      of the producer, the worker and the store (redis-server, or PostgreSQL for pg-boss; PostgreSQL
//      and RabbitMQ for Conveyor). Then Conveyor (noop) against each peer, round by round and on the
//      means, and the issue's targets: jobs/s ≥ BullMQ-always's and ≥ BullMQ-everysec's in the same
//      run, CPU per job across all processes ≤ 0.5 ms, end-to-end p50 ≤ 50 ms.
//   Evidence recorded per run: CPU of each process from /proc (% of one core), the consumer's
//   /metrics (processing time, event-loop lag), PostgreSQL commits, WAL syncs and row writes per job
//   (pg_stat_database, pg_stat_wal, pg_stat_user_tables), RabbitMQ messages left in job-events.
//
// Everything runs in its own corner: AMQP prefix bench.<random>, schema bench_<random> (pg-boss:
// bench_<random>_pgboss), redis-servers on ports and in folders of their own (never the machine's
// Redis); all are deleted at the end, and every child process is killed, on error and on Ctrl-C too.
import { setTimeout as sleep } from 'node:timers/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { argument, flag, numberList } from './lib/args.mjs';
import { cpuCells, cpuGroups, cpuSnapshot, CPU_COUNT, formatCpu } from './lib/cpu.mjs';
import { connectBackends, parkedMessages, pgCounters, versionsLine } from './lib/backends.mjs';
import { pg, ROOT } from './lib/deps.mjs';
import { closedLoop, freePort, opsAgent, request } from './lib/http.mjs';
import { DATABASE_URL as ADMIN_DATABASE_URL, cleanUpOnce, isolate, runBenchmark } from './lib/isolation.mjs';
import { metricSum, scrapeOrEmpty as scrape } from './lib/metrics.mjs';
import { fmt, log, printTable } from './lib/output.mjs';
import { cleanUpPeers, PEER_SYSTEMS, peerDescription, DEFAULT_PGBOSS_LOOPS, runPeer } from './lib/peers.mjs';
import { printPeerReport } from './lib/peers-report.mjs';
import {
  assertAlive,
  assertBuilt,
  startService as start,
  stopService,
  waitForStatus,
  waitForSubscriber,
} from './lib/services.mjs';
import { counterDelta, percentile } from './lib/stats.mjs';

// ---------------------------------------------------------------------------------------------
// Settings

const JOBS = numberList('jobs', [5000], { integers: true })[0];
const CLIENT_OPTIONS = numberList('clients', [32, 64], { integers: true });
const CONCURRENCIES = numberList('concurrency', [4, 16, 64], { integers: true });
const WORKERS = numberList('workers', [], { integers: true })[0];
const MAX_SECONDS = numberList('max-seconds', [40], { integers: true })[0];
const ASYNC_COMMIT = flag('async-commit');
const KIND_OPTION = argument('kind') ?? 'both';
if (!['factorize', 'noop', 'both'].includes(KIND_OPTION)) {
  console.error('--kind needs factorize, noop or both');
  process.exit(2);
}
const KINDS = KIND_OPTION === 'both' ? ['factorize', 'noop'] : [KIND_OPTION];
const ROUNDS = numberList('rounds', [KINDS.length > 1 ? 2 : 1], { integers: true })[0];
const SYSTEMS = (argument('systems') ?? ['conveyor', ...PEER_SYSTEMS].join(',')).split(',');
if (SYSTEMS.some((system) => system !== 'conveyor' && !PEER_SYSTEMS.includes(system))) {
  console.error(`--systems needs some of conveyor, ${PEER_SYSTEMS.join(', ')}, separated by commas`);
  process.exit(2);
}
const CONVEYOR = SYSTEMS.includes('conveyor');
const PEERS = PEER_SYSTEMS.filter((system) => SYSTEMS.includes(system));
/** The peers run at the top concurrency only: the one the issue's comparison is about. */
const PEER_CONCURRENCY = Math.max(...CONCURRENCIES);
const PGBOSS_LOOPS = numberList('pgboss-loops', [DEFAULT_PGBOSS_LOOPS], { integers: true })[0];
/** The issue's bar for a module kind against the built-in one: "within 10 %". */
const SDK_MARGIN = 0.1;
const POLL_MS = 200;
const TARGET_JOBS_PER_SECOND = 1000;

/** With --async-commit, a database of our own (so its setting touches nobody else); else the shared one. */
const CORNER = isolate({ ownDatabase: ASYNC_COMMIT });
const { prefix: PREFIX, schema: SCHEMA, ownDatabase: OWN_DATABASE, databaseUrl: DATABASE_URL } = CORNER;
const NAMES = {
  jobQueue: CORNER.names.workQueue('job.factorize'),
  noopQueue: CORNER.names.workQueue('job.noop'),
  objectQueue: CORNER.names.workQueue('object.check'),
  deadLetterQueue: CORNER.names.deadLetterQueue,
  jobEventsQueue: CORNER.names.jobEventsQueue,
  retryQueues: CORNER.names.retryQueues,
};
/**
 * The retry tiers of the noop kind (its default retry policy: 1, 2, 4, 8 s), which its host declares
 * besides the bench's RETRY_DELAYS_MS; read from the module by the built SDK in main().
 */
const NOOP_RETRY_QUEUES = [];
/**
 * The queues purged between runs. The noop kind's queues join once a noop host has declared them:
 * a purge of a queue that does not exist would close the bench's channel.
 */
const ALL_QUEUES = [
  NAMES.jobQueue,
  NAMES.objectQueue,
  NAMES.deadLetterQueue,
  NAMES.jobEventsQueue,
  ...NAMES.retryQueues,
];

const NOOP_MODULE_URL = pathToFileURL(resolve(ROOT, 'bench/fixtures/noop-job.mjs')).href;
/**
 * What differs between the kinds: the queue, the request body, the consumer's settings (the same
 * prefetch for both), and whether the producer must first learn the kind from the registry.
 */
const JOB_KINDS = {
  factorize: {
    queue: NAMES.jobQueue,
    body: (n) => ({ kind: 'factorize', input: { number: String(n) } }),
    consumerEnv: (concurrency) => ({
      FACTORIZE_CONCURRENCY: String(concurrency),
      ...(WORKERS ? { FACTORIZE_WORKERS: String(WORKERS) } : {}),
    }),
    registered: false,
  },
  noop: {
    queue: NAMES.noopQueue,
    body: () => ({ kind: 'noop', input: {} }),
    consumerEnv: (concurrency) => ({
      WORKER_MODULES: NOOP_MODULE_URL,
      BUILT_IN_KINDS: 'false',
      NOOP_JOB_CONCURRENCY: String(concurrency),
    }),
    registered: true,
  },
};

/** --profile DIR: producer and consumer run under `node --cpu-prof`, their profiles written to DIR (diagnosis only). */
const PROFILE_DIR = flag('profile') ? resolve(argument('profile') ?? '/tmp') : undefined;
const startService = (service, env) =>
  start(
    service,
    { ...CORNER.serviceEnv, ...env },
    PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
  );

// ---------------------------------------------------------------------------------------------
// ---------------------------------------------------------------------------------------------
// Submitting

/**
 * N jobs from `clients` keep-alive clients, back to back (closed loop). Resolves with the first
 * submit time (epoch ms), the submit window, per-request latencies and the failures.
 */
function submitJobs(port, clients, firstNumber, count = JOBS, kind = 'factorize') {
  const { body } = JOB_KINDS[kind];
  return closedLoop({
    count,
    clients,
    maxSeconds: MAX_SECONDS,
    call: (agent, i) => request(agent, port, 'POST', '/v1/jobs', JSON.stringify(body(firstNumber + i))),
  });
}

/**
 * Waits until the producer accepts `kind`, which a fresh host registers after declaring its queue.
 * The probe's input is no object, so once the kind is known it is refused with `invalid_input`
 * (no job is created); before, with `unknown_kind`.
 */
async function waitUntilAccepted(producerPort, consumer, kind, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    assertAlive(consumer);
    const probe = JSON.stringify({ kind, input: 'probe' });
    const { status, body } = await request(opsAgent, producerPort, 'POST', '/v1/jobs', probe);
    let code;
    try {
      code = JSON.parse(body).error?.code;
    } catch {
      code = undefined;
    }
    if (status === 422 && code === 'invalid_input') return;
    if (code !== 'unknown_kind') {
      throw new Error(`the producer answered the ${kind} probe with HTTP ${status}: ${body.slice(0, 300)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the producer did not accept the ${kind} kind within ${timeoutMs} ms:\n${consumer.lines.slice(-20).join('\n')}`,
      );
    }
    await sleep(100);
  }
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
// Conveyor's producer

/**
 * The producer process, ready and warmed up: JIT, connection pool, broker channel (a few hundred
 * jobs of each kind, then wiped), so the first run of neither kind pays for the producer's first
 * requests on its path.
 */
async function startProducer(db, channel) {
  const producerPort = await freePort();
  const producer = startService('producer', {
    PORT: String(producerPort),
    OPS_PORT: String(await freePort()),
  });
  await waitForStatus(producer, producerPort, '/readyz', 200);
  if (KINDS.includes('noop')) await registerNoop(producerPort, channel);
  for (const kind of KINDS) await submitJobs(producerPort, 16, 1, Math.min(500, JOBS), kind);
  await waitForEmptyOutbox(db);
  await reset(db, channel);
  return { producer, producerPort };
}

// ---------------------------------------------------------------------------------------------
// Phase 1: submit only

async function submitOnly(producer, producerPort, db, channel, clients, firstNumber) {
  const groups = cpuGroups({ producer });
  const pgBefore = await pgCounters(db, SCHEMA);
  const cpuBefore = cpuSnapshot(groups);
  const result = await submitJobs(producerPort, clients, firstNumber);
  const cpu = cpuSnapshot(groups).since(cpuBefore);
  assertAlive(producer);
  const outboxLeft = await waitForEmptyOutbox(db);
  const queued = (await channel.checkQueue(NAMES.jobQueue)).messageCount;
  await sleep(1000); // let the backends flush their table statistics
  const pgUse = counterDelta(pgBefore, await pgCounters(db, SCHEMA));
  await reset(db, channel);
  return { ...result, cpu, outboxLeft, queued, pg: pgUse };
}

// ---------------------------------------------------------------------------------------------
// Phase 2: end to end

/**
 * A consumer process hosting `kind`, ready and subscribed to its queue. For a module kind, also
 * registered: the producer accepts it (its host declares the queue first, then registers it).
 */
async function startConsumer({ producerPort, channel, concurrency, kind }) {
  const spec = JOB_KINDS[kind];
  const opsPort = await freePort();
  const consumer = startService('consumer', { OPS_PORT: String(opsPort), ...spec.consumerEnv(concurrency) });
  try {
    await waitForStatus(consumer, opsPort, '/readyz', 200);
    if (spec.registered) await waitUntilAccepted(producerPort, consumer, kind);
    await waitForSubscriber(channel, spec.queue, 'the consumer', `the ${kind} queue`);
  } catch (error) {
    await stopService(consumer);
    throw error;
  }
  return { consumer, opsPort };
}

/**
 * Registers the noop kind once, before the warm-up: a host started and stopped again. The kind stays
 * in the registry (the producer accepts it with no host running) and its queues stay declared, so
 * they are purged between runs from then on.
 */
async function registerNoop(producerPort, channel) {
  const { consumer } = await startConsumer({
    producerPort,
    channel,
    concurrency: CONCURRENCIES[0],
    kind: 'noop',
  });
  await stopService(consumer);
  ALL_QUEUES.push(NAMES.noopQueue, ...NOOP_RETRY_QUEUES.filter((queue) => !ALL_QUEUES.includes(queue)));
}

async function endToEnd({ producer, producerPort, db, channel, clients, concurrency, firstNumber, kind }) {
  const spec = JOB_KINDS[kind];
  const { consumer, opsPort } = await startConsumer({ producerPort, channel, concurrency, kind });
  try {
    const groups = cpuGroups({ producer, consumer });
    const metricsBefore = await scrape(opsPort);
    const pgBefore = await pgCounters(db, SCHEMA);
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
          const p99 = metricSum(text, 'nodejs_eventloop_lag_p99_seconds');
          loopLagMax = Math.max(loopLagMax, lag);
          loopP99Max = Math.max(loopP99Max, p99);
          const queue = await channel.checkQueue(spec.queue);
          timeline.push({
            t: (performance.now() - started) / 1000,
            ...finished,
            ready: queue.messageCount,
            lag,
            p99,
          });
        }
        tick += 1;
        await sleep(POLL_MS);
      }
    })();

    const submit = await submitJobs(producerPort, clients, firstNumber, JOBS, kind);
    const deadline = started + MAX_SECONDS * 1000;
    while (finished.succeeded + finished.failed < submit.accepted && performance.now() < deadline) {
      assertAlive(consumer);
      await sleep(POLL_MS);
    }
    const usage = cpuSnapshot(groups).usageSince(cpuBefore);
    const cpu = usage.percent;
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

    const label = `queue="${spec.queue}"`;
    const processingCount =
      metricSum(metricsAfter, 'conveyor_message_processing_seconds_count', label) -
      metricSum(metricsBefore, 'conveyor_message_processing_seconds_count', label);
    const processingSum =
      metricSum(metricsAfter, 'conveyor_message_processing_seconds_sum', label) -
      metricSum(metricsBefore, 'conveyor_message_processing_seconds_sum', label);
    const under10ms =
      metricSum(metricsAfter, 'conveyor_message_processing_seconds_bucket', `le="0.01"`) -
      metricSum(metricsBefore, 'conveyor_message_processing_seconds_bucket', `le="0.01"`);
    const under50ms =
      metricSum(metricsAfter, 'conveyor_message_processing_seconds_bucket', `le="0.05"`) -
      metricSum(metricsBefore, 'conveyor_message_processing_seconds_bucket', `le="0.05"`);

    await waitForEmptyOutbox(db);
    await sleep(1000); // let the backends flush their table statistics
    const pgUse = counterDelta(pgBefore, await pgCounters(db, SCHEMA));
    const events = (await channel.checkQueue(NAMES.jobEventsQueue)).messageCount;
    const { deadLettered, retried } = await parkedMessages(channel, {
      deadLetterQueue: NAMES.deadLetterQueue,
      retryQueues: ALL_QUEUES.filter((q) => q.startsWith(`${PREFIX}.retry.`)),
    });

    return {
      kind,
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
      // CPU ms per succeeded job: the services and the backends (not the bench's client, irq or others).
      cpuMsPerJob:
        (usage.ms.producer + usage.ms.consumer + usage.ms.postgres + usage.ms.rabbitmq) /
        Math.max(1, rows.length),
      consumerMsPerJob: usage.ms.consumer / Math.max(1, rows.length),
      msPerJob: Object.fromEntries(
        CPU_PROCESSES.map((name) => [name, usage.ms[name] / Math.max(1, rows.length)]),
      ),
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

// The noop queue and tiers are deleted too (deleting one never declared is harmless); the tiers are
// filled in by main() before any host starts, and cleanUpOnce reads the list when it runs.
const EXTRA_QUEUES = [NAMES.noopQueue];
const cleanUpCorner = cleanUpOnce(CORNER, { queues: EXTRA_QUEUES });
let cleanedUp;
/** The peers' leftovers first (the pg-boss schema lives in the corner's database, which an own database takes along). */
const cleanUp = () =>
  (cleanedUp ??= cleanUpPeers({ databaseUrl: DATABASE_URL, schema: SCHEMA }).then(cleanUpCorner));

/** The noop module's retry tiers as its host declares them: the SDK's normalized retry policy → tier delays. */
async function noopRetryQueues() {
  const worker = await import(pathToFileURL(resolve(ROOT, 'packages/worker/dist/index.js')).href);
  const contracts = await import(pathToFileURL(resolve(ROOT, 'packages/contracts/dist/index.js')).href);
  const [noop] = await worker.loadJobModules(NOOP_MODULE_URL);
  const names = contracts.topologyNames(PREFIX);
  return contracts.retryTierDelays(noop.retry).map((delayMs) => names.retryQueue(delayMs));
}

const mean = (values) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

/** The processes whose CPU per job the noop ÷ factorize comparison breaks down. */
const CPU_PROCESSES = ['producer', 'consumer', 'postgres', 'rabbitmq', 'bench'];

/** One kind at one concurrency over its rounds: mean jobs/s and latencies, CPU per job over all rounds. */
function kindFigures(runs) {
  const succeeded = runs.reduce((a, r) => a + r.succeeded, 0);
  return {
    runs,
    jobsPerSecond: mean(runs.map((r) => r.jobsPerSecond)),
    p50: mean(runs.map((r) => r.p50)),
    p99: mean(runs.map((r) => r.p99)),
    cpuMsPerJob: runs.reduce((a, r) => a + r.cpuMsPerJob * r.succeeded, 0) / Math.max(1, succeeded),
    consumerMsPerJob: runs.reduce((a, r) => a + r.consumerMsPerJob * r.succeeded, 0) / Math.max(1, succeeded),
    msPerJob: Object.fromEntries(
      CPU_PROCESSES.map((name) => [
        name,
        runs.reduce((a, r) => a + r.msPerJob[name] * r.succeeded, 0) / Math.max(1, succeeded),
      ]),
    ),
    commitsPerJob: runs.reduce((a, r) => a + r.pg.commits, 0) / Math.max(1, succeeded),
    submitRate: mean(runs.map((r) => r.submit.rate)),
    complete: runs.every((r) => r.complete && r.failed === 0),
  };
}

// ---------------------------------------------------------------------------------------------
// Main

const perJob = (n, jobs) => fmt(n / Math.max(1, jobs), 2);

async function main() {
  if (CONVEYOR) assertBuilt(['producer', 'consumer'], 'pnpm exec tsc -b');
  console.log(
    `Jobs end-to-end benchmark — systems ${SYSTEMS.join(', ')}, kinds ${KINDS.join(', ')}, ${fmt(JOBS)} jobs per run, ${ROUNDS} round(s), prefix ${PREFIX}, schema ${SCHEMA}, ${CPU_COUNT} cores, node ${process.version}`,
  );
  for (const system of PEERS) console.log(`  ${peerDescription(system, PEER_CONCURRENCY, PGBOSS_LOOPS)}`);
  if (CONVEYOR && KINDS.includes('noop')) {
    NOOP_RETRY_QUEUES.push(...(await noopRetryQueues()));
    EXTRA_QUEUES.push(...NOOP_RETRY_QUEUES);
  }

  if (OWN_DATABASE) {
    const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
    await admin.connect();
    await admin.query(`create database "${OWN_DATABASE}"`);
    await admin.query(`alter database "${OWN_DATABASE}" set synchronous_commit = off`);
    await admin.end();
    console.log(
      `DIAGNOSIS MODE: database ${OWN_DATABASE} with synchronous_commit = off (commits do not wait for the WAL fsync)`,
    );
  }
  const backends = await connectBackends(DATABASE_URL, {
    onChannelError: (error) => log(`probe channel error: ${error.message}`),
  });
  const { channel, db } = backends;
  try {
    console.log(await versionsLine(backends, { synchronousCommit: true }));

    const { producer, producerPort } = CONVEYOR ? await startProducer(db, channel) : {};

    // 1. Submit only
    const submits = [];
    let firstNumber = 1_000_000;
    for (const clients of CONVEYOR ? CLIENT_OPTIONS : []) {
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
    const bestSubmit = submits.reduce((a, b) => (b.rate > a.rate ? b : a), submits[0]);
    // The peers are driven by the clients Conveyor's end-to-end runs get, so the HTTP load is the same.
    const clients = bestSubmit?.clients ?? Math.max(...CLIENT_OPTIONS);

    // 2. End to end: per concurrency, the kinds interleaved round by round (f, n, f, n), so a drift
    // of the machine over the run weighs on both alike; at the peers' concurrency (phase 4), the peers
    // follow in each round (f, n, bullmq-always, bullmq-everysec, pgboss, f, n, ...) for the same reason.
    const runs = [];
    const peerRuns = [];
    for (const concurrency of CONCURRENCIES) {
      for (let round = 1; round <= ROUNDS; round += 1) {
        for (const kind of CONVEYOR ? KINDS : []) {
          log(
            `phase 2: end to end, ${kind}, concurrency ${concurrency}, round ${round} of ${ROUNDS}, ${fmt(JOBS)} jobs from ${clients} clients`,
          );
          const run = await endToEnd({
            producer,
            producerPort,
            db,
            channel,
            clients,
            concurrency,
            firstNumber,
            kind,
          });
          run.round = round;
          firstNumber += JOBS;
          runs.push(run);
          log(
            `e2e ${kind} prefetch ${concurrency}: ${fmt(run.jobsPerSecond)} jobs/s (${fmt(run.succeeded)} of ${fmt(run.submit.accepted)} in ${fmt(run.elapsedSeconds, 1)} s, steady ${fmt(run.steadyRate)}/s), ` +
              `latency p50 ${fmt(run.p50)} ms p99 ${fmt(run.p99)} ms; ${fmt(run.cpuMsPerJob, 2)} ms CPU a job; submit ${fmt(run.submit.rate)}/s; CPU: ${formatCpu(run.cpu)}`,
          );
          if (run.submit.firstFailure) log(`first failure: ${run.submit.firstFailure}`);
          assertAlive(producer);
        }
        for (const system of concurrency === PEER_CONCURRENCY ? PEERS : []) {
          log(
            `phase 4: end to end, ${system}, concurrency ${concurrency}, round ${round} of ${ROUNDS}, ${fmt(JOBS)} jobs from ${clients} clients`,
          );
          const run = await runPeer({
            system,
            concurrency,
            pgbossLoops: PGBOSS_LOOPS,
            clients,
            jobs: JOBS,
            maxSeconds: MAX_SECONDS,
            runId: CORNER.runId,
            databaseUrl: DATABASE_URL,
            schema: SCHEMA,
            db,
          });
          run.round = round;
          peerRuns.push(run);
          log(
            `e2e ${system} concurrency ${concurrency}: ${fmt(run.jobsPerSecond)} jobs/s (${fmt(run.succeeded)} of ${fmt(run.submit.accepted)} in ${fmt(run.elapsedSeconds, 1)} s, steady ${fmt(run.steadyRate)}/s), ` +
              `latency p50 ${fmt(run.p50)} ms p99 ${fmt(run.p99)} ms; ${fmt(run.cpuMsPerJob, 2)} ms CPU a job; submit ${fmt(run.submit.rate)}/s; CPU: ${formatCpu(run.cpu)}`,
          );
          if (run.submit.firstFailure) log(`first failure: ${run.submit.firstFailure}`);
          if (run.firstOutput) log(`${system} said: ${run.firstOutput}`);
        }
      }
    }
    if (CONVEYOR) printConveyorReport({ submits, bestSubmit, runs, clients, producer });
    if (PEERS.length > 0) {
      // Conveyor's side of the comparison: its noop runs (the same work), else what it ran.
      const kind = KINDS.includes('noop') ? 'noop' : KINDS[0];
      printPeerReport({
        conveyorRuns: runs.filter((r) => r.kind === kind && r.concurrency === PEER_CONCURRENCY),
        conveyorKind: kind,
        peerRuns,
        concurrency: PEER_CONCURRENCY,
        clients,
        rounds: ROUNDS,
        jobs: JOBS,
      });
    }
  } finally {
    await backends.close();
    await cleanUp();
  }
}

// ---------------------------------------------------------------------------------------------
// Conveyor's report

function printConveyorReport({ submits, bestSubmit, runs, clients, producer }) {
  const bestOf = (kind) =>
    runs.filter((r) => r.kind === kind).reduce((a, b) => (b.jobsPerSecond > a.jobsPerSecond ? b : a));
  const bestRuns = KINDS.map(bestOf);
  const runName = (r) => `${r.kind} ${r.concurrency}${ROUNDS > 1 ? ` #${r.round}` : ''}`;

  printTable(
    'Submit only (producer alone, no consumer)',
    [
      'Clients',
      '202/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'failed',
      'PG commits/job',
      'WAL syncs/job',
      'CPU (% of one core)',
    ],
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
    [
      'Kind, concurrency (prefetch), round',
      'jobs/s',
      'steady jobs/s',
      'e2e p50 ms',
      'e2e p99 ms',
      'done',
      'submit 202/s',
      'submit p50 / p99 ms',
      'delivery→ack mean ms',
      'CPU ms/job (consumer)',
    ],
    runs.map((r) => [
      runName(r),
      fmt(r.jobsPerSecond),
      fmt(r.steadyRate),
      fmt(r.p50),
      fmt(r.p99),
      `${fmt(r.succeeded)}/${fmt(JOBS)}${r.complete ? '' : ' (cut)'}`,
      fmt(r.submit.rate),
      `${fmt(r.submit.p50, 1)} / ${fmt(r.submit.p99, 1)}`,
      fmt(r.meanProcessingMs, 1),
      `${fmt(r.cpuMsPerJob, 2)} (${fmt(r.consumerMsPerJob, 2)})`,
    ]),
  );

  printTable(
    'Where the time goes (per run; CPU in % of one core over first submit → last finish)',
    [
      'Kind, concurrency, round',
      'producer',
      'consumer',
      'postgres',
      'rabbitmq',
      'bench',
      'irq',
      'others',
      'machine',
      'loop lag max ms',
      'loop p99 max ms',
      'acked <10 ms / <50 ms',
    ],
    runs.map((r) => [
      runName(r),
      ...cpuCells(r.cpu, ['producer', 'consumer', 'postgres', 'rabbitmq', 'bench', 'irq', 'others']),
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
    [
      'Kind, concurrency, round',
      'commits',
      'WAL syncs',
      'WAL records',
      'jobs upd',
      'job_events ins',
      'outbox ins',
      'outbox del',
      'job-events msgs (expected 0: no callbackUrl)',
      'retried / dead',
    ],
    runs.map((r) => [
      runName(r),
      split(r, (x) => x.pg.commits),
      split(r, (x) => x.pg.walSyncs),
      split(r, (x) => x.pg.walRecords),
      split(r, row('jobs', 'upd')),
      split(r, row('job_events', 'ins')),
      split(r, row('outbox', 'ins')),
      split(r, row('outbox', 'del')),
      // Events go out only for jobs with a callbackUrl (JOB_EVENTS=callbacks, the default).
      fmt(r.events),
      `${r.retried} / ${r.deadLettered}`,
    ]),
  );

  for (const best of bestRuns) {
    printTable(
      `Timeline of the best ${best.kind} run (concurrency ${best.concurrency}, per ~1 s)`,
      ['t (s)', 'succeeded', 'queued/running rows', 'job queue ready', 'loop lag ms'],
      best.timeline.map((s) => [
        fmt(s.t, 1),
        fmt(s.succeeded),
        fmt(s.other),
        fmt(s.ready),
        fmt(s.lag * 1000, 1),
      ]),
    );
  }

  // 3. noop ÷ factorize, per concurrency.
  const comparisons =
    KINDS.length < 2
      ? []
      : CONCURRENCIES.map((concurrency) => {
          const f = kindFigures(runs.filter((r) => r.kind === 'factorize' && r.concurrency === concurrency));
          const n = kindFigures(runs.filter((r) => r.kind === 'noop' && r.concurrency === concurrency));
          const speed = n.jobsPerSecond / f.jobsPerSecond;
          const cpu = n.cpuMsPerJob / f.cpuMsPerJob;
          const within = speed >= 1 - SDK_MARGIN && cpu <= 1 + SDK_MARGIN;
          return { concurrency, f, n, speed, cpu, within: within && f.complete && n.complete };
        });
  if (comparisons.length > 0) {
    const range = (values, digits) =>
      values.length > 1 ? ` (${values.map((v) => fmt(v, digits)).join(', ')})` : '';
    printTable(
      `noop (job module through the SDK) ÷ factorize (built in), mean of ${ROUNDS} round(s); CPU = producer + consumer + postgres + rabbitmq`,
      [
        'Concurrency',
        'factorize jobs/s',
        'noop jobs/s',
        'noop ÷ factorize',
        'CPU ms/job f / n',
        'CPU ratio',
        'consumer ms/job f / n',
        'p50 ms f / n',
        'p99 ms f / n',
        'within 10 %',
      ],
      comparisons.map((c) => [
        c.concurrency,
        `${fmt(c.f.jobsPerSecond)}${range(
          c.f.runs.map((r) => r.jobsPerSecond),
          0,
        )}`,
        `${fmt(c.n.jobsPerSecond)}${range(
          c.n.runs.map((r) => r.jobsPerSecond),
          0,
        )}`,
        fmt(c.speed, 3),
        `${fmt(c.f.cpuMsPerJob, 2)} / ${fmt(c.n.cpuMsPerJob, 2)}`,
        fmt(c.cpu, 3),
        `${fmt(c.f.consumerMsPerJob, 2)} / ${fmt(c.n.consumerMsPerJob, 2)}`,
        `${fmt(c.f.p50)} / ${fmt(c.n.p50)}`,
        `${fmt(c.f.p99)} / ${fmt(c.n.p99)}`,
        c.within ? 'yes' : 'NO',
      ]),
    );
    // Where a difference would come from: each process's CPU per job, the commits per job and the
    // submit rate (at high prefetch the closed-loop submitters, i.e. the producer, set the pace).
    printTable(
      'noop vs factorize by process: CPU ms per succeeded job (f / n), PostgreSQL commits per job (whole run), submit 202/s',
      ['Concurrency', ...CPU_PROCESSES, 'commits/job', 'submit 202/s'],
      comparisons.map((c) => [
        c.concurrency,
        ...CPU_PROCESSES.map((name) => `${fmt(c.f.msPerJob[name], 3)} / ${fmt(c.n.msPerJob[name], 3)}`),
        `${fmt(c.f.commitsPerJob, 3)} / ${fmt(c.n.commitsPerJob, 3)}`,
        `${fmt(c.f.submitRate)} / ${fmt(c.n.submitRate)}`,
      ]),
    );
  }

  const noisy = [
    ...submits.map((s) => [`submit C=${s.clients}`, s.cpu]),
    ...runs.map((r) => [`e2e ${runName(r)}`, r.cpu]),
  ].filter(([, cpu]) => cpu.others > 20);
  if (noisy.length > 0) {
    console.log(
      `\nWARNING: other processes on this machine used CPU during the run (${noisy.map(([phase, cpu]) => `${phase}: ${fmt(cpu.others)}% of a core`).join(', ')}); those figures are lower than on an idle machine.`,
    );
  }
  console.log(
    `service warn/error log lines: producer ${producer.warnings}/${producer.errors}, consumers ${runs.map((r) => r.logs).join(', ')}`,
  );

  const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
  const allDone = runs.every((r) => r.complete && r.failed === 0);
  printTable(
    'Summary',
    ['Figure', 'Measured', 'Target', 'Result'],
    [
      [
        `Submit rate, ${bestSubmit.clients} clients, no consumer (202/s)`,
        fmt(bestSubmit.rate),
        '(reference)',
        '',
      ],
      [
        'Submit latency p50 / p99 (ms)',
        `${fmt(bestSubmit.p50, 1)} / ${fmt(bestSubmit.p99, 1)}`,
        '(reference)',
        '',
      ],
      ...runs.map((r) => [
        `End to end, ${runName(r)} (jobs/s)`,
        fmt(r.jobsPerSecond),
        `≥ ${fmt(TARGET_JOBS_PER_SECOND)}`,
        verdict(r.complete && r.jobsPerSecond >= TARGET_JOBS_PER_SECOND),
      ]),
      ...bestRuns.flatMap((best) => [
        [
          `End-to-end latency p50 / p99, best ${best.kind} run (ms)`,
          `${fmt(best.p50)} / ${fmt(best.p99)}`,
          '',
          '',
        ],
        [
          `Best end to end, ${best.kind} (jobs/s, concurrency ${best.concurrency})`,
          fmt(best.jobsPerSecond),
          `≥ ${fmt(TARGET_JOBS_PER_SECOND)}`,
          verdict(best.complete && best.jobsPerSecond >= TARGET_JOBS_PER_SECOND),
        ],
      ]),
      ...comparisons.map((c) => [
        `noop ÷ factorize at concurrency ${c.concurrency}: jobs/s; CPU per job`,
        `${fmt(c.speed, 3)}; ${fmt(c.cpu, 3)}`,
        `≥ ${1 - SDK_MARGIN}; ≤ ${1 + SDK_MARGIN}`,
        verdict(c.within),
      ]),
      [
        'Every job succeeded',
        allDone ? 'yes' : runs.map((r) => `${runName(r)}: ${r.succeeded}/${JOBS}`).join(', '),
        'yes',
        verdict(allDone),
      ],
    ],
  );
}

runBenchmark(main, cleanUp);
