// The yardsticks of bench/jobs.bench.mjs: BullMQ and pg-boss doing Conveyor's `noop` work end to end
// through the same HTTP shape (bench/peers/: an express producer answering 202 once the job is
// durably accepted, and one worker process). Each run starts the peer afresh: BullMQ on a private
// redis-server (own port and folder, AOF on, `appendfsync always` or `everysec`, no RDB snapshots),
// pg-boss in its own schema <bench schema>_pgboss on the shared PostgreSQL; both are removed after
// the run, and by cleanUpPeers() on an error or Ctrl-C.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { cpuGroups, cpuSnapshot } from './cpu.mjs';
import { pg, ROOT } from './deps.mjs';
import { closedLoop, freePort, request } from './http.mjs';
import {
  assertAlive,
  startProcess,
  stopAllServices,
  stopService,
  waitForLine,
  waitForStatus,
} from './services.mjs';
import { percentile, steadyRate } from './stats.mjs';

/** The peers, in the order a round runs them (after Conveyor). */
export const PEER_SYSTEMS = ['bullmq-always', 'bullmq-everysec', 'pgboss'];

const QUEUE = 'noop';
const POLL_MS = 200;
/** Jobs through the whole path before a run is measured (JIT, pools, connections), as Conveyor's warm-up. */
const WARM_UP_JOBS = 500;

const peerFile = (name) => resolve(ROOT, 'bench/peers', `${name}.mjs`);
const startNode = (name, env) => startProcess(name, process.execPath, [peerFile(name)], env);

/** Redis folders of this bench run still on disk: removed after their run, at clean-up, and at exit. */
const redisFolders = new Set();
process.on('exit', () => {
  for (const folder of redisFolders) rmSync(folder, { recursive: true, force: true });
});

/** A private redis-server on a free port with its own folder; `appendfsync` is `always` or `everysec`. */
async function startRedis(appendfsync, runId) {
  const folder = mkdtempSync(join(tmpdir(), `bench-redis-${runId}-`));
  redisFolders.add(folder);
  const port = await freePort();
  const server = startProcess('redis-server', 'redis-server', [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', folder],
    ...['--appendonly', 'yes', '--appendfsync', appendfsync, '--save', ''],
    // BullMQ needs keys never evicted (Redis's default, said here so it cannot be lost).
    ...['--maxmemory-policy', 'noeviction', '--daemonize', 'no'],
  ]);
  await waitForLine(server, /Ready to accept connections/);
  return {
    server,
    port,
    async stop() {
      await stopService(server);
      rmSync(folder, { recursive: true, force: true });
      redisFolders.delete(folder);
    },
  };
}

/** BullMQ on a fresh redis-server: its producer and worker, and the bench's own view of the queue. */
async function startBullmq({ appendfsync, concurrency, runId }) {
  const redis = await startRedis(appendfsync, runId);
  const env = { REDIS_PORT: String(redis.port), QUEUE };
  const producerPort = await freePort();
  const producer = startNode('bullmq-producer', { ...env, PORT: String(producerPort) });
  const worker = startNode('bullmq-worker', { ...env, WORKER_CONCURRENCY: String(concurrency) });
  const connection = new Redis({ host: '127.0.0.1', port: redis.port });
  const queue = new Queue(QUEUE, { connection });
  return {
    producerPort,
    processes: { producer, worker },
    groups: cpuGroups({ producer, worker, redis: redis.server }, []),
    store: ['redis'],
    async counts() {
      const { completed, failed } = await queue.getJobCounts('completed', 'failed');
      return { completed, failed };
    },
    /** created = the job's `timestamp` (set by queue.add), finished = its `finishedOn`, both epoch ms. */
    async finishes(ids) {
      const wanted = new Set(ids);
      return (await queue.getCompleted(0, -1))
        .filter((job) => wanted.has(job.id))
        .map((job) => ({ created: job.timestamp, finished: job.finishedOn }));
    },
    async stop() {
      await queue.close().catch(() => undefined);
      await connection.quit().catch(() => undefined);
      await stopService(worker);
      await stopService(producer);
      await redis.stop();
    },
  };
}

/** pg-boss in `schema` (created by its producer on start, dropped by stop()). */
async function startPgboss({ concurrency, pgbossLoops, databaseUrl, schema, db }) {
  const env = { DATABASE_URL: databaseUrl, PGBOSS_SCHEMA: schema, QUEUE };
  const producerPort = await freePort();
  const producer = startNode('pgboss-producer', { ...env, PORT: String(producerPort) });
  // The producer migrates the schema; the worker starts once it is there, so they never race to create it.
  await waitForLine(producer, /^ready$/);
  const { workers, batchSize } = pgbossShape(concurrency, pgbossLoops);
  const worker = startNode('pgboss-worker', {
    ...env,
    PGBOSS_WORKERS: String(workers),
    PGBOSS_BATCH_SIZE: String(batchSize),
  });
  return {
    producerPort,
    processes: { producer, worker },
    groups: cpuGroups({ producer, worker }, ['postgres']),
    store: ['postgres'],
    async counts() {
      const { rows } = await db.query(
        `select count(*) filter (where state = 'completed')::int as completed,
                count(*) filter (where state = 'failed')::int as failed
           from "${schema}".job where name = $1`,
        [QUEUE],
      );
      return rows[0];
    },
    /** created = the row's created_on (the send's insert), finished = completed_on (the batch's completion). */
    async finishes(ids) {
      const { rows } = await db.query(
        `select extract(epoch from created_on) * 1000 as created, extract(epoch from completed_on) * 1000 as finished
           from "${schema}".job where name = $1 and state = 'completed' and id = any($2::uuid[])`,
        [QUEUE, ids],
      );
      return rows.map((r) => ({ created: Number(r.created), finished: Number(r.finished) }));
    },
    async stop() {
      await stopService(worker);
      await stopService(producer);
      await db.query(`drop schema if exists "${schema}" cascade`);
    },
  };
}

/**
 * How pg-boss fetches `concurrency` jobs at once: `loops` fetch loops (work() calls) × a batch each.
 * The default: at 64 on 2 cores, 1, 2 and 4 loops ran at the same rate within the noise (the
 * producer's one commit per send sets the pace) and 4 had the lowest latency; 8 was no better, and
 * 64 loops of one job were far slower and dearer (each fetch and completion a statement of its own).
 */
export const DEFAULT_PGBOSS_LOOPS = 4;
function pgbossShape(concurrency, loops = DEFAULT_PGBOSS_LOOPS) {
  const workers = Math.min(concurrency, loops);
  return { workers, batchSize: Math.max(1, Math.floor(concurrency / workers)) };
}

/** What a peer is, for the header: its version and its settings. */
export function peerDescription(system, concurrency, pgbossLoops) {
  switch (system) {
    case 'bullmq-always':
    case 'bullmq-everysec':
      return `${system}: BullMQ ${version('bullmq')} (ioredis ${version('ioredis')}), redis-server ${redisVersion()} of its own, appendfsync ${system.slice('bullmq-'.length)}, Worker concurrency ${concurrency}`;
    case 'pgboss': {
      const { workers, batchSize } = pgbossShape(concurrency, pgbossLoops);
      return `pgboss: pg-boss ${version('pg-boss')}, schema of its own, ${workers} work() loops × batchSize ${batchSize}, polling 0.5 s, a loop that got jobs polls again at once`;
    }
    default:
      throw new Error(`unknown peer system ${system}`);
  }
}

const version = (name) =>
  JSON.parse(readFileSync(resolve(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;

function redisVersion() {
  try {
    return /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?';
  } catch {
    return '(redis-server not found)';
  }
}

/**
 * One measured run of `system`: started afresh, warmed up with WARM_UP_JOBS jobs, then `jobs`
 * jobs from `clients` keep-alive clients, completion polled every 200 ms. Figures as Conveyor's
 * end-to-end run: jobs/s = completed ÷ (first submit → last finish), end-to-end latency from each
 * job's own created / finished times, CPU of the producer, the worker and the store per completed job.
 */
export async function runPeer({
  system,
  concurrency,
  pgbossLoops,
  clients,
  jobs,
  maxSeconds,
  runId,
  databaseUrl,
  schema,
  db,
}) {
  const peer = system.startsWith('bullmq-')
    ? await startBullmq({ appendfsync: system.slice('bullmq-'.length), concurrency, runId })
    : await startPgboss({ concurrency, pgbossLoops, databaseUrl, schema: pgbossSchema(schema), db });
  const { producer, worker } = peer.processes;
  try {
    await waitForStatus(producer, peer.producerPort, '/readyz', 200);
    await waitForLine(worker, /^ready$/);
    const submit = (count, submitClients, ids) =>
      closedLoop({
        count,
        clients: submitClients,
        maxSeconds,
        call: (agent) => request(agent, peer.producerPort, 'POST', '/v1/jobs', BODY),
        onAccepted: ids ? (answer) => ids.push(JSON.parse(answer.body).id) : undefined,
      });
    const waitForCompletions = async (target, deadline) => {
      let counts = await peer.counts();
      while (counts.completed + counts.failed < target && performance.now() < deadline) {
        assertAlive(producer);
        assertAlive(worker);
        await sleep(POLL_MS);
        counts = await peer.counts();
      }
      return counts;
    };

    const warmUp = await submit(Math.min(WARM_UP_JOBS, jobs), 16);
    if (warmUp.accepted === 0) throw new Error(`${system} accepted no warm-up job: ${warmUp.firstFailure}`);
    const base = await waitForCompletions(warmUp.accepted, performance.now() + maxSeconds * 1000);

    const ids = [];
    const cpuBefore = cpuSnapshot(peer.groups);
    const started = performance.now();
    const result = await submit(jobs, clients, ids);
    const counts = await waitForCompletions(
      base.completed + base.failed + result.accepted,
      started + maxSeconds * 1000,
    );
    const usage = cpuSnapshot(peer.groups).usageSince(cpuBefore);

    const done = await peer.finishes(ids);
    const finishes = done.map((d) => d.finished).sort((a, b) => a - b);
    const latencies = done.map((d) => d.finished - d.created).sort((a, b) => a - b);
    const elapsedSeconds = ((finishes.at(-1) ?? NaN) - result.startedAtEpoch) / 1000;
    const processes = ['producer', 'worker', ...peer.store];
    const cpuMs = processes.reduce((a, name) => a + usage.ms[name], 0);
    return {
      system,
      concurrency,
      clients,
      submit: result,
      succeeded: done.length,
      failed: counts.failed - base.failed,
      complete: done.length >= result.accepted && result.accepted === jobs,
      jobsPerSecond: done.length / elapsedSeconds,
      elapsedSeconds,
      steadyRate: steadyRate(finishes),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1),
      cpu: usage.percent,
      processes,
      cpuMsPerJob: cpuMs / Math.max(1, done.length),
      msPerJob: Object.fromEntries(
        processes.map((name) => [name, usage.ms[name] / Math.max(1, done.length)]),
      ),
      // The peer programs print nothing but `ready` unless something went wrong.
      firstOutput: [...producer.lines, ...worker.lines].find((line) => line !== 'ready'),
    };
  } finally {
    await peer.stop();
  }
}

const BODY = JSON.stringify({ kind: 'noop', input: {} });
const pgbossSchema = (schema) => `${schema}_pgboss`;

/**
 * Clean-up after an error or Ctrl-C: stops every process (peers and redis-servers included), drops
 * the pg-boss schema and removes the redis folders. Errors are printed, not thrown.
 */
export async function cleanUpPeers({ databaseUrl, schema }) {
  await stopAllServices();
  for (const folder of redisFolders) rmSync(folder, { recursive: true, force: true });
  redisFolders.clear();
  try {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    await client.query(`drop schema if exists "${pgbossSchema(schema)}" cascade`);
    await client.end();
  } catch (error) {
    console.error(`could not drop schema ${pgbossSchema(schema)}: ${error.message}`);
  }
}
