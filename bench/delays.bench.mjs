// Benchmark: delay accuracy. 10,000 jobs submitted with the same runAt a few seconds ahead: how late
// do they start (startedAt − runAt) and how late is their `queued` event (the promoter alone), and
// how fast does the cleanup's due-jobs routine queue them? The yardstick, measured in the same run
// on the same processes: the same 10,000 jobs submitted without a delay, their queue wait
// (startedAt − createdAt). A burst of N jobs cannot start faster than the consumer drains N jobs
// submitted at once, so the ratio of the two p99s is what the delay itself costs.
//
//   flock /tmp/conveyor-bench.lock pnpm bench delays [--jobs 10000] [--clients 64] [--concurrency 64]
//
// Options: --jobs N          jobs per phase (default 10000)
//          --clients C       concurrent keep-alive HTTP clients submitting (default 64)
//          --concurrency P   FACTORIZE_CONCURRENCY of the consumer (default 64)
//          --lead-seconds S  runAt = the moment the delayed submits start + S (default: the
//                            yardstick's submit time × 1.5 + 3 s, so every job is in before it is due)
//          --idle-seconds S  how long the promoter's idle cost is sampled at the end (default 10)
//
// Phases:
//   0. A producer, a consumer (factorize, prefetch P) and a cleanup (PROMOTE_INTERVAL_MS at its
//      default 250 ms unless BENCH_ENV_PROMOTE_INTERVAL_MS says otherwise), all processes; a warm-up
//      of 500 jobs, wiped.
//   1. Yardsticks: (a) paced: N × POST /v1/jobs {"kind":"factorize","input":{"number":"<1000000+i>"}}
//      from C clients with the consumer running; queue wait = started_at − created_at per job.
//      (b) burst: the same N jobs submitted with the consumer stopped, then a fresh consumer
//      started; wait = started_at − the moment it answered ready: what N jobs released at one
//      moment cost without any delay, the fair yardstick of N jobs due at one moment. Wiped.
//   2. Delayed: the same N jobs with "runAt" = T; once all succeeded, lateness of start
//      (started_at − run_at) and of the `queued` event (job_events.occurred_at − run_at), and the
//      promoter's throughput (N ÷ the span of the queued events). Wiped.
//   3. Idle cost: the cleanup's and PostgreSQL's CPU over S seconds with nothing due, the routines
//      polling every 250 ms, then the same with a cleanup whose promoter and scheduler poll once in
//      10 min; and EXPLAIN ANALYZE of the promoter's look on a jobs table of 2N rows.
//   CPU of each process over phases 1 and 2 from /proc, and what else used the machine ("others").
//
// Everything runs in its own corner (AMQP prefix bench.<random>, schema bench_<random>), deleted at the end.
import { setTimeout as sleep } from 'node:timers/promises';
import { numberList } from './lib/args.mjs';
import { connectBackends, versionsLine, waitForEmptyOutbox } from './lib/backends.mjs';
import { cpuGroups, cpuSnapshot, formatCpu } from './lib/cpu.mjs';
import { closedLoop, freePort, request } from './lib/http.mjs';
import { cleanUpOnce, isolate, runBenchmark } from './lib/isolation.mjs';
import { fmt, log, printTable } from './lib/output.mjs';
import { assertAlive, assertBuilt, startService, stopService, waitForStatus } from './lib/services.mjs';
import { percentile } from './lib/stats.mjs';

const JOBS = numberList('jobs', [10_000], { integers: true })[0];
const CLIENTS = numberList('clients', [64], { integers: true })[0];
const CONCURRENCY = numberList('concurrency', [64], { integers: true })[0];
const LEAD_SECONDS = numberList('lead-seconds', [], {})[0];
const IDLE_SECONDS = numberList('idle-seconds', [10], {})[0];
const MAX_SECONDS = 120;
const TARGET_P99_MS = 1_000;

const CORNER = isolate();
const { schema: SCHEMA } = CORNER;
const cleanUp = cleanUpOnce(CORNER);

const body = (i, runAt) =>
  JSON.stringify({
    kind: 'factorize',
    input: { number: String(1_000_000 + i) },
    ...(runAt ? { runAt } : {}),
  });

function submit(port, count, runAt) {
  return closedLoop({
    count,
    clients: CLIENTS,
    maxSeconds: MAX_SECONDS,
    call: (agent, i) => request(agent, port, 'POST', '/v1/jobs', body(i, runAt)),
  });
}

async function waitAllSucceeded(db, count, services) {
  const deadline = Date.now() + MAX_SECONDS * 1000;
  for (;;) {
    for (const service of services) assertAlive(service);
    const { rows } = await db.query(
      `select count(*) filter (where status = 'succeeded')::int as done,
              count(*) filter (where status in ('failed', 'cancelled'))::int as bad
         from "${SCHEMA}".jobs`,
    );
    if (rows[0].bad > 0) throw new Error(`${rows[0].bad} jobs failed or were cancelled`);
    if (rows[0].done >= count) return;
    if (Date.now() > deadline)
      throw new Error(`only ${rows[0].done} of ${count} jobs succeeded in ${MAX_SECONDS} s`);
    await sleep(100);
  }
}

async function wipe(db) {
  await waitForEmptyOutbox(db, SCHEMA);
  await db.query(`truncate "${SCHEMA}".job_events, "${SCHEMA}".outbox, "${SCHEMA}".jobs cascade`);
}

const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    min: sorted[0] ?? NaN,
  };
};

/** A consumer process (factorize at prefetch CONCURRENCY), resolved once /readyz answers 200. */
async function startConsumer() {
  const opsPort = await freePort();
  const consumer = startService('consumer', {
    ...CORNER.serviceEnv,
    OPS_PORT: String(opsPort),
    FACTORIZE_CONCURRENCY: String(CONCURRENCY),
  });
  await waitForStatus(consumer, opsPort, '/readyz', 200);
  return consumer;
}

/** A cleanup process with `env` on top of the corner's, resolved once /readyz answers 200. */
async function startCleanup(env = {}) {
  const opsPort = await freePort();
  const cleanup = startService('cleanup', { ...CORNER.serviceEnv, OPS_PORT: String(opsPort), ...env });
  await waitForStatus(cleanup, opsPort, '/readyz', 200);
  return cleanup;
}

/** Per job, `expression` (SQL over jobs j and, when joined, its queued event e) in ms, summarized. */
async function msPerJob(db, expression, { queuedEvent = false } = {}) {
  const join = queuedEvent ? `join "${SCHEMA}".job_events e on e.job_id = j.id and e.status = 'queued'` : '';
  const { rows } = await db.query(
    `select extract(epoch from ${expression}) * 1000 as ms from "${SCHEMA}".jobs j ${join}`,
  );
  return { count: rows.length, ...summary(rows.map((r) => Number(r.ms))) };
}

async function main() {
  assertBuilt(['producer', 'consumer', 'cleanup'], 'pnpm build');
  const backends = await connectBackends(CORNER.databaseUrl);
  const { db } = backends;
  log(`delay accuracy: ${fmt(JOBS)} jobs, ${CLIENTS} clients, consumer prefetch ${CONCURRENCY}`);
  log(await versionsLine(backends));

  const port = await freePort();
  const producer = startService('producer', {
    ...CORNER.serviceEnv,
    PORT: String(port),
    OPS_PORT: String(await freePort()),
  });
  await waitForStatus(producer, port, '/readyz', 200);
  let consumer = await startConsumer();
  let cleanup = await startCleanup();
  const services = () => [producer, consumer, cleanup];
  // The consumer and the cleanup are replaced during the run: their pids are looked up when sampled.
  const groups = cpuGroups({ producer, consumer, cleanup });
  groups.consumer = () => [consumer.pid];
  groups.cleanup = () => [cleanup.pid];

  log('warm-up: 500 jobs');
  await submit(port, 500);
  await waitAllSucceeded(db, 500, services());
  await wipe(db);

  // Phase 1a: the yardstick as the jobs arrive, paced by the submits.
  log(`yardstick, paced: ${fmt(JOBS)} jobs to run now, the consumer running`);
  const cpuBefore1 = cpuSnapshot(groups);
  const now = await submit(port, JOBS);
  if (now.accepted !== JOBS) throw new Error(`${JOBS - now.accepted} submits failed: ${now.firstFailure}`);
  await waitAllSucceeded(db, JOBS, services());
  const cpu1 = cpuSnapshot(groups).since(cpuBefore1);
  const paced = await msPerJob(db, 'j.started_at - j.created_at');
  const submitSeconds = now.seconds;
  await wipe(db);

  // Phase 1b: the yardstick as a burst: the same jobs already queued, released at once by starting
  // the consumer. The wait is counted from the moment it answers ready: what a burst due at one
  // second costs the consumer, without the delay.
  log(`yardstick, burst: ${fmt(JOBS)} jobs queued with the consumer stopped, then released at once`);
  await stopService(consumer);
  const queuedNow = await submit(port, JOBS);
  if (queuedNow.accepted !== JOBS) throw new Error(`${JOBS - queuedNow.accepted} submits failed`);
  await waitForEmptyOutbox(db, SCHEMA);
  consumer = await startConsumer();
  const releasedAt = new Date();
  await waitAllSucceeded(db, JOBS, services());
  const burst = await msPerJob(db, `j.started_at - '${releasedAt.toISOString()}'::timestamptz`);
  await wipe(db);

  // Phase 2: the same jobs, all due at T.
  const leadSeconds = LEAD_SECONDS ?? (Number.isFinite(submitSeconds) ? submitSeconds * 1.5 + 3 : 10);
  const runAt = new Date(Date.now() + leadSeconds * 1000);
  log(`delayed: ${fmt(JOBS)} jobs due at ${runAt.toISOString()} (${fmt(leadSeconds, 1)} s ahead)`);
  const cpuBefore2 = cpuSnapshot(groups);
  const delayed = await submit(port, JOBS, runAt.toISOString());
  if (delayed.accepted !== JOBS)
    throw new Error(`${JOBS - delayed.accepted} submits failed: ${delayed.firstFailure}`);
  const submittedBy = Date.now();
  if (submittedBy > runAt.getTime())
    throw new Error(`the submits ended after runAt: give a larger --lead-seconds`);
  const { rows: early } = await db.query(
    `select count(*)::int as n from "${SCHEMA}".jobs where status <> 'scheduled'`,
  );
  if (early[0].n > 0) throw new Error(`${early[0].n} jobs left scheduled before their runAt`);
  await waitAllSucceeded(db, JOBS, services());
  const cpu2 = cpuSnapshot(groups).since(cpuBefore2);
  const startLateness = await msPerJob(db, 'j.started_at - j.run_at');
  const queuedLateness = await msPerJob(db, 'e.occurred_at - j.run_at', { queuedEvent: true });
  if (queuedLateness.count !== JOBS)
    throw new Error(`${queuedLateness.count} queued events for ${JOBS} jobs`);
  // From the moment they were due to the last queued event: the wait for the routine's next poll
  // included, so a burst's throughput is not flattered by a span of one transaction.
  const promoterRate = JOBS / Math.max(queuedLateness.max / 1000, 0.001);
  const rowsBefore = (await db.query(`select count(*)::int as n from "${SCHEMA}".jobs`)).rows[0].n;

  // Phase 3: the idle promoter (nothing due; jobs table of 2N finished rows after a copy), against
  // the same cleanup with the promoter and scheduler polling once in 10 minutes.
  await db.query(
    `insert into "${SCHEMA}".jobs (id, client_id, kind, custom_id, request_hash, input, status, sequence, created_at, updated_at)
     select gen_random_uuid(), client_id, kind, null, request_hash, input, status, sequence, created_at, updated_at
       from "${SCHEMA}".jobs`,
  );
  await db.query(`analyze "${SCHEMA}".jobs`);
  const idleCpu = async (label) => {
    log(`idle: the cleanup's CPU over ${IDLE_SECONDS} s with nothing due, ${label}`);
    const idleGroups = cpuGroups({ cleanup }, ['postgres']);
    const before = cpuSnapshot(idleGroups);
    await sleep(IDLE_SECONDS * 1000);
    return cpuSnapshot(idleGroups).usageSince(before, { skipNewPids: true });
  };
  const idleOn = await idleCpu('promoter and scheduler polling every 250 ms');
  await stopService(cleanup);
  cleanup = await startCleanup({ PROMOTE_INTERVAL_MS: '600000', SCHEDULER_INTERVAL_MS: '600000' });
  const idleOff = await idleCpu('promoter and scheduler polling every 10 min');
  const { rows: plan } = await db.query(
    `explain (analyze, buffers, format json)
     select id, kind, trace_parent from "${SCHEMA}".jobs where status = 'scheduled' and run_at <= now()
      order by run_at limit 1000 for update skip locked`,
  );
  const explained = plan[0]['QUERY PLAN'][0];
  const usesIndex = JSON.stringify(explained.Plan).includes('jobs_scheduled_run_at_idx');

  printTable(
    `Delay accuracy, ${fmt(JOBS)} jobs (ms)`,
    ['measure', 'p50', 'p99', 'max'],
    [
      [
        'yardstick, paced: queue wait as submitted (started − created)',
        fmt(paced.p50),
        fmt(paced.p99),
        fmt(paced.max),
      ],
      [
        'yardstick, burst: all queued, released at once (started − release)',
        fmt(burst.p50),
        fmt(burst.p99),
        fmt(burst.max),
      ],
      [
        'delayed: start lateness (started − runAt)',
        fmt(startLateness.p50),
        fmt(startLateness.p99),
        fmt(startLateness.max),
      ],
      [
        'delayed: queued-event lateness (queued − runAt)',
        fmt(queuedLateness.p50),
        fmt(queuedLateness.p99),
        fmt(queuedLateness.max),
      ],
    ],
  );
  const pct = (usage, name) => fmt(usage.percent[name], 2);
  console.log(`
start lateness p99 ÷ burst yardstick p99: ${fmt(startLateness.p99 / burst.p99, 2)} (÷ paced yardstick p99: ${fmt(startLateness.p99 / paced.p99, 1)})
target p99 start lateness ≤ ${fmt(TARGET_P99_MS)} ms: ${startLateness.p99 <= TARGET_P99_MS ? 'met' : 'not met'} (${fmt(startLateness.p99)} ms); queued-event lateness p99 ${fmt(queuedLateness.p99)} ms
earliest start relative to runAt: ${fmt(startLateness.min)} ms (negative would be a job started early)
promoter: ${fmt(JOBS)} jobs all queued ${fmt(queuedLateness.max)} ms after runAt: ${fmt(promoterRate)} jobs/s (the first ${fmt(queuedLateness.min)} ms after runAt, waiting for the next poll)
submits: paced yardstick ${fmt(submitSeconds, 1)} s; the delayed ones all in ${fmt((runAt.getTime() - submittedBy) / 1000, 1)} s before runAt
CPU (% of one core), paced yardstick: ${formatCpu(cpu1)}
CPU (% of one core), delayed: ${formatCpu(cpu2)}
idle cleanup, polling every 250 ms: cleanup ${pct(idleOn, 'cleanup')} %, postgres ${pct(idleOn, 'postgres')} % (others ${fmt(idleOn.percent.others, 0)} %)
idle cleanup, polling every 10 min: cleanup ${pct(idleOff, 'cleanup')} %, postgres ${pct(idleOff, 'postgres')} % (others ${fmt(idleOff.percent.others, 0)} %)
promoter's look on ${fmt(rowsBefore * 2)} jobs with none scheduled: ${fmt(explained['Execution Time'], 3)} ms, ${usesIndex ? 'through jobs_scheduled_run_at_idx' : 'NOT through the partial index'}, ${explained.Plan['Shared Hit Blocks'] ?? '?'} shared blocks hit`);
  await backends.close();
  await cleanUp();
}

runBenchmark(main, cleanUp);
