// pg-boss's producer for bench/jobs.bench.mjs: POST /v1/jobs → `boss.send(queue, {})`, answered 202
// once the send has resolved (the job row is committed). It creates the schema (pg-boss migrates on
// start) and the queue; it runs no maintenance and no schedules (`supervise: false, schedule: false`,
// as for an instance that only sends). Pool: pg-boss's default of 10 connections, as Conveyor's
// producer's DATABASE_POOL_MAX. Env: PORT, DATABASE_URL, PGBOSS_SCHEMA, QUEUE.
import PgBoss from 'pg-boss';
import { serveProducer } from './http-producer.mjs';

const queue = process.env.QUEUE;
const boss = new PgBoss({
  connectionString: process.env.DATABASE_URL,
  schema: process.env.PGBOSS_SCHEMA,
  supervise: false,
  schedule: false,
});
boss.on('error', (error) => console.error(`pg-boss error: ${error.message}`));
await boss.start();
await boss.createQueue(queue);

await serveProducer({
  enqueue: async () => {
    const id = await boss.send(queue, {});
    if (id === null) throw new Error('pg-boss did not create the job');
    return id;
  },
  close: () => boss.stop({ graceful: true, wait: true }),
});
