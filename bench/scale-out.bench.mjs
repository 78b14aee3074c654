// Benchmark: scaling out on this machine — small jobs and object checks end to end with 1 and 2
// worker hosts (consumer processes), on RabbitMQ clusters of 1 and of 3 nodes, in one run. The
// clusters are the bench's own, started from Debian's rabbitmq-server by the test kit's
// RabbitCluster beside the machine's broker (which is not used), with every quorum queue
// replicated on every node (QUORUM_INITIAL_GROUP_SIZE 3) and every service given every node.
//
//   cd /work/main && pnpm exec tsc -b && flock /tmp/conveyor-bench.lock node bench/scale-out.bench.mjs
//
// Options: --jobs N        small factorize jobs per run, from 64 keep-alive clients (default 5000)
//          --rate R        object-check ids/s offered (open loop, 200 ids a request; default 4000,
//                          above what one consumer checks on 2 cores, so the runs differ by capacity)
//          --seconds S     how long the object checks are offered (default 10)
//          --nodes 1,3     cluster sizes
//          --workers 1,2   worker hosts (consumer processes) per run
//
// Per cluster size and worker count: a producer, the upstream simulator (services/tester) and W
// consumers (FACTORIZE_CONCURRENCY 64, OBJECT_CHECKS_IN_FLIGHT 8000 each); then (1) N jobs submitted as fast as 64 clients go, jobs/s = N / (first submit → last
// finished_at); (2) R ids/s of distinct even ids (online at the simulator: each check writes a
// row) for S seconds, checks/s = ids / (first send → the last row written, polled every 200 ms);
// the upstream's answers take 0.3–4.3 s, so a run that keeps up ends ~4 s after its last send
// (the drain, printed beside it).
// CPU per job and per check from /proc over each window, every process counted (all RabbitMQ
// nodes, PostgreSQL, producer, consumers, simulator). Tables are truncated between runs; the schema
// and the clusters are deleted at the end, also on error and Ctrl-C.
import http from 'node:http';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { numberList } from './lib/args.mjs';
import { cpuGroups, cpuSnapshot, CPU_COUNT } from './lib/cpu.mjs';
import { pg, ROOT } from './lib/deps.mjs';
import { closedLoop, freePort, request } from './lib/http.mjs';
import { cleanUpOnce, isolate, runBenchmark } from './lib/isolation.mjs';
import { fmt, log, printTable } from './lib/output.mjs';
import { assertBuilt, startService, stopService, waitForStatus } from './lib/services.mjs';

const JOBS = numberList('jobs', [5000], { integers: true })[0];
const RATE = numberList('rate', [4000], { integers: true })[0];
const SECONDS = numberList('seconds', [10], { integers: true })[0];
const NODES = numberList('nodes', [1, 3], { integers: true });
const WORKERS = numberList('workers', [1, 2], { integers: true });
const CLIENTS = 64;
const IDS_PER_REQUEST = 200;
/** Object checks in flight per consumer: the simulator answers in 0.3–4.3 s. */
const CHECKS_IN_FLIGHT = 8000;

const CORNER = isolate();
const { schema: SCHEMA } = CORNER;
const { RabbitCluster } = await import(
  pathToFileURL(resolve(ROOT, 'packages/testkit/dist/rabbitmq-cluster.js')).href
);
const clusters = [];
const cleanUpCorner = cleanUpOnce(CORNER);
const cleanUp = async () => {
  await cleanUpCorner();
  for (const cluster of clusters) await cluster.dispose().catch(() => undefined);
};

async function waitUntil(what, check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

const count = async (db, sql) => Number((await db.query(sql)).rows[0].n);

async function startStack(amqpUrl, workers) {
  const env = { ...CORNER.serviceEnv, AMQP_URL: amqpUrl, QUORUM_INITIAL_GROUP_SIZE: '3' };
  const producerPort = await freePort();
  const producer = startService('producer', { ...env, PORT: String(producerPort), OPS_PORT: '0' });
  await waitForStatus(producer, producerPort, '/readyz', 200);
  const simulatorPort = await freePort();
  const simulator = startService('tester', {
    SIMULATOR_PORT: String(simulatorPort),
    SENDER_ENABLED: 'false',
  });
  await waitForStatus(simulator, simulatorPort, '/', 404);
  const consumers = [];
  for (let i = 0; i < workers; i++) {
    const opsPort = await freePort();
    const consumer = startService('consumer', {
      ...env,
      OPS_PORT: String(opsPort),
      OBJECT_CHECKS_IN_FLIGHT: String(CHECKS_IN_FLIGHT),
      // Small jobs: the jobs bench's prefetch (the default suits long factorizations).
      FACTORIZE_CONCURRENCY: '64',
      OBJECTS_API_URL: `http://127.0.0.1:${simulatorPort}`,
    });
    await waitForStatus(consumer, opsPort, '/readyz', 200);
    consumers.push(consumer);
  }
  const services = {
    producer,
    simulator,
    ...Object.fromEntries(consumers.map((c, i) => [`consumer${i + 1}`, c])),
  };
  return {
    producerPort,
    groups: cpuGroups(services),
    async stop() {
      for (const handle of Object.values(services)) await stopService(handle);
    },
  };
}

async function runJobs(stack, db) {
  const before = cpuSnapshot(stack.groups);
  const submit = await closedLoop({
    count: JOBS,
    clients: CLIENTS,
    maxSeconds: 60,
    call: (agent, i) =>
      request(
        agent,
        stack.producerPort,
        'POST',
        '/v1/jobs',
        JSON.stringify({ kind: 'factorize', input: { number: String(1_000_000 + i) } }),
      ),
  });
  await waitUntil(
    'every job finished',
    async () =>
      (await count(db, `select count(*) as n from "${SCHEMA}".jobs where status = 'succeeded'`)) >=
      submit.accepted,
    120_000,
  );
  const after = cpuSnapshot(stack.groups);
  const { rows } = await db.query(
    `select extract(epoch from max(finished_at)) * 1000 as last from "${SCHEMA}".jobs`,
  );
  const seconds = (Number(rows[0].last) - submit.startedAtEpoch) / 1000;
  const usage = after.usageSince(before);
  return { done: submit.accepted, failed: submit.failures, rate: submit.accepted / seconds, cpu: usage };
}

async function runChecks(stack, db) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const requests = Math.round((RATE * SECONDS) / IDS_PER_REQUEST);
  const intervalMs = (1000 * IDS_PER_REQUEST) / RATE;
  let nextId = 2;
  let accepted = 0;
  let failures = 0;
  const before = cpuSnapshot(stack.groups);
  const started = Date.now();
  const sends = [];
  for (let i = 0; i < requests; i++) {
    const ids = Array.from({ length: IDS_PER_REQUEST }, () => (nextId += 2));
    sends.push(
      request(agent, stack.producerPort, 'POST', '/callback', JSON.stringify({ object_ids: ids })).then(
        ({ status }) => (status === 200 ? (accepted += ids.length) : (failures += 1)),
        () => (failures += 1),
      ),
    );
    const due = started + (i + 1) * intervalMs;
    if (due > Date.now()) await sleep(due - Date.now());
  }
  await Promise.all(sends);
  agent.destroy();
  const sent = Date.now();
  await waitUntil(
    'every accepted id stored',
    async () => (await count(db, `select count(*) as n from "${SCHEMA}".objects`)) >= accepted,
    120_000,
  );
  const seconds = (Date.now() - started) / 1000;
  const usage = cpuSnapshot(stack.groups).usageSince(before);
  return {
    done: accepted,
    failed: failures,
    rate: accepted / seconds,
    drain: (Date.now() - sent) / 1000,
    cpu: usage,
  };
}

/** CPU ms per item over every process, and the machine's busy share. */
function cpuPerItem(usage, items) {
  const ours = Object.entries(usage.ms)
    .filter(([name]) => !['machine', 'others', 'bench'].includes(name))
    .reduce((sum, [, ms]) => sum + ms, 0);
  return { perItem: ours / Math.max(1, items), machine: usage.percent.machine, others: usage.percent.others };
}

async function main() {
  assertBuilt(['producer', 'consumer', 'tester'], 'pnpm exec tsc -b');
  log(
    `Scale-out benchmark — ${JOBS} jobs, ${RATE} ids/s for ${SECONDS} s per run; nodes ${NODES.join(', ')}; ` +
      `worker hosts ${WORKERS.join(', ')}; schema ${SCHEMA}; ${CPU_COUNT} cores`,
  );
  const db = new pg.Client({ connectionString: CORNER.databaseUrl });
  await db.connect();
  const results = [];
  try {
    for (const nodes of NODES) {
      log(`starting a ${nodes}-node RabbitMQ cluster`);
      const cluster = await RabbitCluster.start(nodes, 'scaleout');
      clusters.push(cluster);
      for (const workers of WORKERS) {
        const stack = await startStack(cluster.amqpUrl, workers);
        await sleep(1_000);
        const jobs = await runJobs(stack, db);
        const checks = await runChecks(stack, db);
        await stack.stop();
        await db.query(
          `truncate "${SCHEMA}".jobs, "${SCHEMA}".job_events, "${SCHEMA}".objects, "${SCHEMA}".outbox cascade`,
        );
        const result = { nodes, workers, jobs, checks };
        results.push(result);
        log(
          `${nodes} node(s), ${workers} worker host(s): ${fmt(jobs.rate)} jobs/s (${fmt(cpuPerItem(jobs.cpu, jobs.done).perItem, 2)} ms CPU a job), ` +
            `${fmt(checks.rate)} checks/s (${fmt(cpuPerItem(checks.cpu, checks.done).perItem, 2)} ms CPU a check); failed requests ${jobs.failed} / ${checks.failed}`,
        );
      }
      await cluster.dispose();
      clusters.splice(clusters.indexOf(cluster), 1);
    }
  } finally {
    await db.end();
  }

  printTable(
    'Scale-out (every process counted; machine and others in % of one core over the window)',
    [
      'RabbitMQ nodes',
      'worker hosts',
      'jobs/s',
      'CPU ms/job',
      'machine % (jobs)',
      'checks/s',
      'drain s',
      'CPU ms/check',
      'machine % (checks)',
      'others %',
    ],
    results.map(({ nodes, workers, jobs, checks }) => {
      const j = cpuPerItem(jobs.cpu, jobs.done);
      const c = cpuPerItem(checks.cpu, checks.done);
      return [
        nodes,
        workers,
        fmt(jobs.rate),
        fmt(j.perItem, 3),
        fmt(j.machine),
        fmt(checks.rate),
        fmt(checks.drain, 1),
        fmt(c.perItem, 3),
        fmt(c.machine),
        `${fmt(j.others)} / ${fmt(c.others)}`,
      ];
    }),
  );
  const find = (nodes, workers) => results.find((r) => r.nodes === nodes && r.workers === workers);
  const ratios = [];
  for (const workers of WORKERS) {
    const one = find(1, workers);
    const three = find(3, workers);
    if (one && three)
      ratios.push([
        `3 nodes ÷ 1 node, ${workers} worker host(s)`,
        fmt(three.jobs.rate / one.jobs.rate, 2),
        fmt(three.checks.rate / one.checks.rate, 2),
      ]);
  }
  for (const nodes of NODES) {
    const one = find(nodes, 1);
    const two = find(nodes, 2);
    if (one && two)
      ratios.push([
        `2 worker hosts ÷ 1, ${nodes} node(s)`,
        fmt(two.jobs.rate / one.jobs.rate, 2),
        fmt(two.checks.rate / one.checks.rate, 2),
      ]);
  }
  printTable('Ratios', ['Comparison', 'jobs/s', 'checks/s'], ratios);
}

runBenchmark(main, cleanUp, 'the services and the RabbitMQ clusters');
