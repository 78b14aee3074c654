// pg-boss's worker for bench/jobs.bench.mjs, in its best configuration we know of at a given
// concurrency (PGBOSS_WORKERS × PGBOSS_BATCH_SIZE jobs fetched at once, set by the bench to the
// prefetch Conveyor gets in the same run):
// - `work()` called PGBOSS_WORKERS times (pg-boss 10 has no concurrency option: each call is one
//   fetch loop), each fetching PGBOSS_BATCH_SIZE jobs per poll and completing them in one statement
//   (which pg-boss does not wait for before its next fetch);
// - `pollingIntervalSeconds: 0.5`, pg-boss's minimum (default 2);
// - a loop that got jobs polls again at once (`notifyWorker`, pg-boss's own "check now"), so it
//   sleeps the interval only after an empty fetch: without it a loop sleeps after every batch,
//   capping the worker at workers × batch ÷ 0.5 s (128 jobs/s at 64) whatever the database could do.
// Maintenance and schedules stay at their defaults, as in a deployed worker. The handler returns at
// once; pg-boss stores its output only for a batch of one. Env: DATABASE_URL, PGBOSS_SCHEMA, QUEUE,
// PGBOSS_WORKERS, PGBOSS_BATCH_SIZE.
import PgBoss from 'pg-boss';

const queue = process.env.QUEUE;
const workers = Number(process.env.PGBOSS_WORKERS);
const batchSize = Number(process.env.PGBOSS_BATCH_SIZE);
const boss = new PgBoss({ connectionString: process.env.DATABASE_URL, schema: process.env.PGBOSS_SCHEMA });
boss.on('error', (error) => console.error(`pg-boss error: ${error.message}`));
await boss.start();

for (let i = 0; i < workers; i += 1) {
  let id;
  id = await boss.work(queue, { batchSize, pollingIntervalSeconds: 0.5 }, async () => {
    // pg-boss calls the handler only with jobs: this loop polls again as soon as it returns.
    if (id !== undefined) boss.notifyWorker(id);
    return { ok: true };
  });
}

process.once('SIGTERM', () => {
  boss.stop({ graceful: true, wait: true }).then(
    () => process.exit(0),
    (error) => {
      console.error(`stop failed: ${error.message}`);
      process.exit(1);
    },
  );
});
console.log('ready');
