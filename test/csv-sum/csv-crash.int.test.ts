import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FaultProxy,
  ServiceProcess,
  startS3Server,
  TEST_DATABASE_URL,
  waitFor,
  type S3Server,
} from '@conveyor/testkit';
import pg from 'pg';
import { createIsolatedEnv, producerApp, request, type IsolatedEnv } from '../harness.js';
import { csvStorageEnv, putObjects, scaledDecimal, writeCsvFixture } from './csv-fixture.js';

/**
 * A consumer killed with kill -9 in the middle of reading a CSV from S3 (a real child process,
 * worker threads and all): the job is redelivered to the next consumer, which reads the file
 * again from the start and finishes it exactly once, with the exact sums.
 * Needs the build (`npx tsc -b`): the consumer runs from services/consumer/dist.
 */
describe('csv-sum across a consumer crash', () => {
  // ~13 MB; the proxy delays each chunk by 500 ms and queues at most 1 MiB, so the first
  // consumer reads about 2 MB/s: several seconds for the file, time enough to kill it mid-file.
  const ROWS = 40_000;
  const SLOW_READ_LATENCY_MS = 500;
  const KILL_AFTER_FRACTION = 0.2;
  let isolated: IsolatedEnv;
  let db: pg.Client;
  let s3: S3Server;
  let proxy: FaultProxy;
  let producer: ReturnType<typeof producerApp>;
  let root: string;
  let expected: Map<number, string>;
  let fileBytes: number;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('csvcrash');
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    root = mkdtempSync(join(tmpdir(), 'csv-crash-'));
    const file = join(root, 'data.csv');
    ({ sums: expected, bytes: fileBytes } = await writeCsvFixture(file, ROWS));
    s3 = await startS3Server({ buckets: ['data'] });
    await putObjects(s3, 'data', { 'big/data.csv': await readFile(file) });
    proxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: s3.port });
    producer = producerApp({ ...isolated.env, JOB_CHECK_INTERVAL_MS: '100' });
    await producer.start();
  });

  afterAll(async () => {
    for (const p of processes) await p.kill9();
    await producer?.stop();
    await proxy?.stop();
    await s3?.stop();
    await db?.end();
    await isolated?.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const startConsumer = async () => {
    const consumer = ServiceProcess.start('consumer', {
      ...isolated.env,
      OPS_PORT: '0',
      LOG_LEVEL: 'info',
      ...csvStorageEnv(root, `http://${proxy.url}`),
      JOB_CHECK_INTERVAL_MS: '100',
    });
    processes.push(consumer);
    await consumer.waitForLog(/consumer started/);
    return consumer;
  };
  const jobOf = async (id: string) => (await request(producer.port, 'GET', `/v1/jobs/${id}`)).body;

  it('redelivers a job whose consumer is killed mid-file; it completes once with the exact sums', async () => {
    const first = await startConsumer();
    proxy.setLatency(SLOW_READ_LATENCY_MS);
    const { status, body } = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'csv-sum',
      input: { storage: 's3', bucket: 'data', key: 'big/data.csv' },
    });
    expect(status).toBe(202);
    const id = body.id as string;

    // Well into the file, not just its first chunk: the worker is busy reading and summing.
    const midFile = await waitFor(
      `progress between ${KILL_AFTER_FRACTION} and 1`,
      async () => {
        const job = await jobOf(id);
        return job.status === 'running' &&
          job.progress.fraction >= KILL_AFTER_FRACTION &&
          job.progress.fraction < 1
          ? job
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50 },
    );
    await first.kill9();
    expect(midFile.attempts).toBe(1);
    const killed = await jobOf(id);
    expect(killed).toMatchObject({ status: 'running', attempts: 1 });
    expect(killed.progress.fraction).toBeGreaterThan(0);
    expect(killed.progress.fraction).toBeLessThan(1);

    // The second consumer reads at full speed; the redelivered message restarts the job from byte 0.
    proxy.setLatency(0);
    const second = await startConsumer();
    const done = await waitFor(
      'job finished after redelivery',
      async () => {
        const job = await jobOf(id);
        return ['succeeded', 'failed', 'cancelled'].includes(job.status) ? job : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, error: null, progress: { fraction: 1 } });
    expect(done.result.rowsRead).toBe(ROWS);
    expect(done.result.bytesRead).toBe(fileBytes);
    expect(done.result.columns.map((c: { column: number; name: string }) => [c.column, c.name])).toEqual([
      [10, 'c10'],
      [20, 'c20'],
      [30, 'c30'],
    ]);
    for (const c of done.result.columns as { column: number; sum: string }[])
      expect(scaledDecimal(c.sum)).toBe(scaledDecimal(expected.get(c.column)!));

    const { rows } = await db.query(
      `select count(*)::int as n from "${isolated.schema}".job_events where job_id = $1 and status = 'succeeded'`,
      [id],
    );
    expect(rows[0].n).toBe(1);
    await second.stop();
  });
});
