// Ten 3-million-row CSV-sum tasks submitted together by one client, through the whole pipeline
// (producer → RabbitMQ → one consumer process with its worker threads → PostgreSQL): all must
// complete with identical exact sums. `node bench/csv-scale.bench.mjs [--tasks 10]`
// Needs the file made by `node bench/csv-sum.bench.mjs` (bench/.data/csv-sum-3000000x30.csv).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const requireFromTestkit = createRequire(resolve(ROOT, 'packages/testkit/package.json'));
const pg = requireFromTestkit('pg');
const amqp = requireFromTestkit('amqplib');
const TASKS = Number(process.argv[process.argv.indexOf('--tasks') + 1]) || 10;
const FILE = 'csv-sum-3000000x30.csv';
if (!existsSync(resolve(ROOT, 'bench/.data', FILE)))
  throw new Error('run node bench/csv-sum.bench.mjs first: it generates the 3M-row file');

const id = randomBytes(4).toString('hex');
const env = {
  PATH: process.env.PATH,
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  DATABASE_SCHEMA: `bench_${id}`,
  AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672',
  AMQP_PREFIX: `bench.${id}`,
  LOG_LEVEL: 'warn',
  STORAGE_ROOT: resolve(ROOT, 'bench/.data'),
};
const children = [];
const start = (service, extra) => {
  const child = spawn(process.execPath, [resolve(ROOT, 'services', service, 'dist/main.js')], {
    cwd: ROOT,
    env: { ...env, ...extra },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  return child;
};
const db = new pg.Client({ connectionString: env.DATABASE_URL });

async function cleanup() {
  for (const child of children) child.kill('SIGKILL');
  await db.query(`drop schema if exists "${env.DATABASE_SCHEMA}" cascade`).catch(() => undefined);
  await db.end().catch(() => undefined);
  const connection = await amqp.connect(env.AMQP_URL);
  for (const q of [
    'object.check',
    'job.factorize',
    'job.csv-sum',
    'job.image-resize',
    'dead-letter',
    'job-events',
    ...[1000, 5000, 30000, 120000, 600000].map((d) => `retry.${d}ms`),
  ]) {
    const ch = await connection.createChannel();
    await ch.deleteQueue(`${env.AMQP_PREFIX}.${q}`).catch(() => undefined);
    await ch.close().catch(() => undefined);
  }
  for (const e of ['work', 'retry', 'dlx', 'events']) {
    const ch = await connection.createChannel();
    await ch.deleteExchange(`${env.AMQP_PREFIX}.${e}`).catch(() => undefined);
    await ch.close().catch(() => undefined);
  }
  await connection.close();
}

try {
  await db.connect();
  start('producer', { PORT: '19391', OPS_PORT: '19393' });
  start('consumer', { OPS_PORT: '19392', CSV_SUM_CONCURRENCY: String(TASKS), CSV_SUM_WORKERS: '2' });
  for (let i = 0; ; i++) {
    if ((await fetch('http://127.0.0.1:19391/readyz').catch(() => undefined))?.ok) break;
    if (i > 100) throw new Error('producer did not become ready');
    await sleep(200);
  }
  const startedAt = Date.now();
  const ids = await Promise.all(
    Array.from({ length: TASKS }, async () => {
      const response = await fetch('http://127.0.0.1:19391/tasks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ storage: 'local', path: FILE }),
      });
      return (await response.json()).task_id;
    }),
  );
  let maxActive = 0;
  for (;;) {
    const { count } = await (await fetch('http://127.0.0.1:19391/tasks/active')).json();
    maxActive = Math.max(maxActive, count);
    const { rows } = await db.query(
      `select status, count(*)::int as n from "${env.DATABASE_SCHEMA}".jobs group by 1`,
    );
    const done = rows
      .filter((r) => ['succeeded', 'failed', 'cancelled'].includes(r.status))
      .reduce((s, r) => s + r.n, 0);
    if (done === TASKS) break;
    if (Date.now() - startedAt > 600_000) throw new Error('tasks did not finish within 10 minutes');
    await sleep(500);
  }
  const seconds = (Date.now() - startedAt) / 1000;
  const results = await Promise.all(
    ids.map(async (taskId) => await (await fetch(`http://127.0.0.1:19391/tasks/${taskId}`)).json()),
  );
  const statuses = results.map((r) => r.status);
  const sums = new Set(results.map((r) => JSON.stringify(r.result?.columns)));
  console.log(
    `${TASKS} tasks of 3,000,000 rows (746 MB each) from one client: ${seconds.toFixed(1)} s in all, ${((TASKS * 746) / seconds).toFixed(0)} MB/s aggregate; at most ${maxActive} computed at once`,
  );
  console.log(
    `statuses: ${JSON.stringify(statuses)}; identical exact sums in every result: ${sums.size === 1 ? 'yes' : 'NO'}`,
  );
  console.log(`sums: ${[...sums][0]}`);
  if (!statuses.every((s) => s === 'succeeded') || sums.size !== 1) process.exitCode = 1;
} finally {
  await cleanup();
}
