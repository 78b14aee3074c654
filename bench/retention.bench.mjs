// Retention on tables of millions of rows: how fast the cleanup's pruning deletes, and what it
// costs the hot path meanwhile. Usage:
//   flock /tmp/conveyor-bench.lock pnpm bench retention [--jobs 1000000] [--seconds 20] [--rate 400] [--pause 100]
// A fresh schema gets `--jobs` finished jobs aged past retention (two job_events each, a webhook
// delivery and an attempt for every fourth), then a writer inserts jobs with their first event
// (one transaction each, like a submit) at `--rate` a second, first alone (the yardstick), then
// while retention runs with the cleanup's defaults (batches of 1000, `--pause` ms apart). Printed: rows
// pruned a second, and the writer's p50 / p99 / max latency in both phases and their ratio.
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { numberOption } from './lib/args.mjs';
import { pg, ROOT } from './lib/deps.mjs';
import { cleanUpOnce, isolate, runBenchmark } from './lib/isolation.mjs';
import { fmt, log, printTable } from './lib/output.mjs';
import { percentile } from './lib/stats.mjs';

const JOBS = numberOption('jobs', 1_000_000);
const SECONDS = numberOption('seconds', 20);
const RATE = numberOption('rate', 400);
/** The cleanup's RETENTION_BATCH_PAUSE_MS (its default unless given). */
const PAUSE_MS = numberOption('pause', 100);
const WRITERS = 8;
const DAY_MS = 86_400_000;

const corner = isolate();
const cleanUp = cleanUpOnce(corner);
const dist = (path) => import(pathToFileURL(resolve(ROOT, path)).href);

async function main() {
  log(`load average ${loadavg()[0].toFixed(1)}; schema ${corner.schema}; ${fmt(JOBS)} old jobs`);
  const migrated = spawnSync(process.execPath, [resolve(ROOT, 'services/producer/dist/cli/migrate.js')], {
    env: { ...process.env, ...corner.serviceEnv, LOG_LEVEL: 'warn' },
    stdio: 'inherit',
  });
  if (migrated.status !== 0) throw new Error('migration failed (run pnpm build first)');

  const admin = new pg.Client({ connectionString: corner.databaseUrl });
  await admin.connect();
  await admin.query(`set search_path to "${corner.schema}"`);
  const filled = Date.now();
  await fill(admin);
  const sizes = await admin.query(
    `select relname, n_live_tup from pg_stat_user_tables where schemaname = $1 and relname in ('jobs','job_events','webhook_deliveries','webhook_attempts') order by relname`,
    [corner.schema],
  );
  log(
    `filled in ${fmt((Date.now() - filled) / 1000, 1)} s: ` +
      sizes.rows.map((r) => `${r.relname} ${fmt(Number(r.n_live_tup))}`).join(', '),
  );

  const baseline = await writeFor(SECONDS * 1000);
  log(`writer alone: p99 ${fmt(baseline.p99, 1)} ms`);

  const { createDatabase } = await dist('packages/database/dist/index.js');
  const { pruneOnce } = await dist('services/cleanup/dist/retention/retention.js');
  const { openBlobStore } = await dist('packages/storage/dist/index.js');
  const { silentLogger } = await dist('packages/platform/dist/index.js');
  const database = createDatabase({
    url: corner.databaseUrl,
    schema: corner.schema,
    poolMax: 2,
    log: silentLogger(),
  });
  const images = openBlobStore('local', { localRoot: mkdtempSync(join(tmpdir(), 'retention-bench-')) });
  const stop = new AbortController();
  const settings = {
    jobsMs: 90 * DAY_MS,
    jobEventsMs: 90 * DAY_MS,
    webhookDeliveriesMs: 30 * DAY_MS,
    webhookAttemptsMs: 30 * DAY_MS,
    batchSize: 1000,
    batchPauseMs: PAUSE_MS,
  };
  const before = await tableRows(admin);
  const pruning = (async () => {
    while (!stop.signal.aborted) await pruneOnce(database.db, images, settings, stop.signal, silentLogger());
  })();
  const during = await writeFor(SECONDS * 1000);
  stop.abort();
  await pruning.catch((error) => {
    if (!stop.signal.aborted) throw error;
  });
  const after = await tableRows(admin);
  await database.close();
  await admin.end();

  const pruned = Object.fromEntries(Object.keys(before).map((t) => [t, before[t] - after[t]]));
  const prunedRows = Object.values(pruned).reduce((a, b) => a + b, 0);
  printTable(
    `Retention over ${fmt(JOBS)} old jobs (batches of 1,000, ${PAUSE_MS} ms apart), writer at ${RATE}/s (${WRITERS} connections), ${SECONDS} s a phase`,
    ['phase', 'writes', 'p50 ms', 'p99 ms', 'max ms', 'rows pruned/s'],
    [
      [
        'writer alone (yardstick)',
        fmt(baseline.count),
        fmt(baseline.p50, 1),
        fmt(baseline.p99, 1),
        fmt(baseline.max, 1),
        '-',
      ],
      [
        'writer + retention',
        fmt(during.count),
        fmt(during.p50, 1),
        fmt(during.p99, 1),
        fmt(during.max, 1),
        fmt(prunedRows / SECONDS),
      ],
    ],
  );
  console.log(
    `pruned in ${SECONDS} s: ${Object.entries(pruned)
      .map(([t, n]) => `${t} ${fmt(n)}`)
      .join(', ')}; jobs ${fmt(pruned.jobs / SECONDS)}/s`,
  );
  console.log(`writer p99 with retention ÷ alone: ${fmt(during.p99 / baseline.p99, 2)}×`);
}

/** Old finished jobs, each with two events, and every fourth with a delivered webhook and its attempt. */
async function fill(client) {
  await client.query(`insert into api_clients (id, name) values ('bench', 'bench') on conflict do nothing`);
  const step = 200_000;
  for (let from = 1; from <= JOBS; from += step) {
    const to = Math.min(JOBS, from + step - 1);
    // Spread over days 100 to 200 ago, oldest first, as a real table would have grown.
    await client.query(
      `insert into jobs (id, client_id, kind, request_hash, input, status, result, sequence, attempts, created_at, updated_at, started_at, finished_at)
       select gen_random_uuid(), 'bench', 'factorize', 'h', '{"number":"15"}', 'succeeded', '{"factors":["3","5"],"product":"15","verified":true}', 2, 1,
              t, t, t, t
       from (select now() - interval '200 days' + (i * interval '100 days' / $3) as t from generate_series($1::int, $2::int) i) s`,
      [from, to, JOBS],
    );
  }
  await client.query(
    `insert into job_events (job_id, sequence, event_id, status, progress, occurred_at)
     select id, s, gen_random_uuid(), case s when 1 then 'queued' else 'succeeded' end, 0, created_at
     from jobs, generate_series(1, 2) s`,
  );
  await client.query(
    `insert into webhook_deliveries (id, job_id, client_id, sequence, url, payload, status, attempts, created_at, updated_at, delivered_at)
     select gen_random_uuid(), id, 'bench', 2, 'https://example.com/hook', '{}', 'delivered', 1, created_at, created_at, created_at
     from jobs where hashtext(id::text) % 4 = 0`,
  );
  await client.query(
    `insert into webhook_attempts (delivery_id, attempt, started_at, status_code, latency_ms)
     select id, 1, created_at, 200, 12 from webhook_deliveries`,
  );
  await client.query('analyze');
}

async function tableRows(client) {
  const counts = {};
  for (const table of ['jobs', 'job_events', 'webhook_deliveries', 'webhook_attempts'])
    counts[table] = Number((await client.query(`select count(*) n from ${table}`)).rows[0].n);
  return counts;
}

/** Inserts a job and its first event per transaction at RATE a second; latencies in ms. */
async function writeFor(ms) {
  const clients = await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      const client = new pg.Client({ connectionString: corner.databaseUrl });
      await client.connect();
      await client.query(`set search_path to "${corner.schema}"`);
      return client;
    }),
  );
  const latencies = [];
  const started = Date.now();
  const intervalMs = (1000 / RATE) * WRITERS;
  await Promise.all(
    clients.map(async (client, index) => {
      let next = started + (index * intervalMs) / WRITERS;
      while (Date.now() - started < ms) {
        const wait = next - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        next += intervalMs;
        const id = randomUUID();
        const t0 = performance.now();
        await client.query(
          `with job as (insert into jobs (id, client_id, kind, request_hash, input, status, sequence)
             values ($1, 'bench', 'factorize', 'h', '{"number":"15"}', 'queued', 1) returning id)
           insert into job_events (job_id, sequence, event_id, status, progress) select id, 1, gen_random_uuid(), 'queued', 0 from job`,
          [id],
        );
        latencies.push(performance.now() - t0);
      }
    }),
  );
  await Promise.all(clients.map((c) => c.end()));
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1],
  };
}

runBenchmark(
  async () => {
    await main();
    await cleanUp();
  },
  cleanUp,
  'the writer',
);
