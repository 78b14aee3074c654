// BullMQ's producer for bench/jobs.bench.mjs: POST /v1/jobs → `queue.add('noop', {})`, answered 202
// once the add has resolved (the job is in Redis; how durable that is depends on the redis-server's
// appendfsync, which the bench sets). Job options are BullMQ's defaults (one attempt, completed
// jobs kept), the way a user starts. Env: PORT, REDIS_PORT, QUEUE (the queue name).
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { serveProducer } from './http-producer.mjs';

const connection = new Redis({ host: '127.0.0.1', port: Number(process.env.REDIS_PORT) });
const queue = new Queue(process.env.QUEUE, { connection });
await queue.waitUntilReady();

await serveProducer({
  enqueue: async () => (await queue.add('noop', {})).id,
  close: async () => {
    await queue.close();
    await connection.quit();
  },
});
