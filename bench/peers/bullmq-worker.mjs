// BullMQ's worker for bench/jobs.bench.mjs: one `Worker` with `concurrency` WORKER_CONCURRENCY (the
// prefetch Conveyor's noop consumer gets in the same run), a processor that returns at once, and
// every other option at BullMQ's default. Env: REDIS_PORT, QUEUE, WORKER_CONCURRENCY.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

// A worker's connection must not give up on a command (BullMQ's documented setting for workers).
const connection = new Redis({
  host: '127.0.0.1',
  port: Number(process.env.REDIS_PORT),
  maxRetriesPerRequest: null,
});
const worker = new Worker(process.env.QUEUE, async () => ({ ok: true }), {
  connection,
  concurrency: Number(process.env.WORKER_CONCURRENCY),
});
worker.on('error', (error) => console.error(`worker error: ${error.message}`));
await worker.waitUntilReady();

process.once('SIGTERM', () => {
  worker.close().then(
    () => connection.quit().then(() => process.exit(0)),
    (error) => {
      console.error(`close failed: ${error.message}`);
      process.exit(1);
    },
  );
});
console.log('ready');
