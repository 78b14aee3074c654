import { mkdtempSync, mkdirSync, symlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultProxy, startS3Server, waitFor, type S3Server } from '@conveyor/testkit';
import {
  createIsolatedEnv,
  request,
  jobFinished,
  startServices,
  type IsolatedEnv,
  type Services,
} from '../harness.js';
import { csvStorageEnv, putObjects, scaledDecimal, writeCsvFixture } from './csv-fixture.js';

describe('csv-sum jobs', () => {
  let isolated: IsolatedEnv;
  let s3: S3Server;
  let proxy: FaultProxy;
  let services: Services;
  let producer: Services['producer'];
  let root: string;
  let expected: Map<number, string>;
  const ROWS = 60_000;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('csvsum');
    root = mkdtempSync(join(tmpdir(), 'csv-root-'));
    mkdirSync(join(root, 'in'));
    ({ sums: expected } = await writeCsvFixture(join(root, 'in', 'data.csv'), ROWS));
    symlinkSync('/etc', join(root, 'escape'));
    s3 = await startS3Server({ buckets: ['data'] });
    await putObjects(s3, 'data', { 'big/data.csv': await readFile(join(root, 'in', 'data.csv')) });
    proxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: s3.port });
    services = await startServices({
      ...isolated.env,
      ...csvStorageEnv(root, `http://${proxy.url}`),
      S3_REQUEST_TIMEOUT_MS: '1000',
      JOB_CHECK_INTERVAL_MS: '100',
      RETRY_DELAYS_MS: '200,500',
    });
    ({ producer } = services);
  });

  afterAll(async () => {
    await services.stop();
    await proxy.stop();
    await s3.stop();
    await isolated.dispose();
  });

  const jobOf = async (id: string) => (await request(producer.port, 'GET', `/v1/jobs/${id}`)).body;
  const finished = (id: string, timeoutMs?: number) => jobFinished(producer.port, id, timeoutMs);
  const expectExact = (result: {
    columns: { column: number; name: string | null; sum: string }[];
    rowsRead: number;
  }) => {
    expect(result.rowsRead).toBe(ROWS);
    expect(result.columns.map((c) => [c.column, c.name])).toEqual([
      [10, 'c10'],
      [20, 'c20'],
      [30, 'c30'],
    ]);
    for (const c of result.columns) expect(scaledDecimal(c.sum)).toBe(scaledDecimal(expected.get(c.column)!));
  };

  it('sums every 10th column of a local file exactly', async () => {
    const { status, body } = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'csv-sum',
      input: { storage: 'local', path: 'in/data.csv' },
    });
    expect(status).toBe(202);
    const job = await finished(body.id);
    expect(job.status).toBe('succeeded');
    expectExact(job.result);
  });

  it('keeps the old /tasks API and stays exact through connection resets mid-file', async () => {
    const trippedBefore = proxy.faultsTripped;
    proxy.resetAfterBytes(1_500_000);
    const submitted = await request(producer.port, 'POST', '/tasks', {
      storage: 's3',
      bucket: 'data',
      key: 'big/data.csv',
    });
    expect(submitted.status).toBe(202);
    const taskId = submitted.body.task_id as string;
    // Re-arm the fault after each reset: the read must resume several times.
    for (let i = 1; i < 3; i++) {
      await waitFor(`reset ${i} fired`, () => proxy.faultsTripped >= trippedBefore + i);
      proxy.resetAfterBytes(2_000_000);
    }
    const done = await waitFor(
      'task done',
      async () => {
        const task = (await request(producer.port, 'GET', `/tasks/${taskId}`)).body;
        return task.status === 'succeeded' || task.status === 'failed' ? task : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(done.status).toBe('succeeded');
    expect(proxy.faultsTripped).toBe(trippedBefore + 3);
    expectExact(done.result);
  });

  it('resumes after the connection stalls mid-file', async () => {
    const trippedBefore = proxy.faultsTripped;
    proxy.stallAfterBytes(3_000_000);
    const { body } = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'csv-sum',
      input: { storage: 's3', bucket: 'data', key: 'big/data.csv' },
    });
    await waitFor('stalled mid-file', () => proxy.faultsTripped === trippedBefore + 1);
    // Longer than S3_REQUEST_TIMEOUT_MS: the reader gives up on the silent socket and resumes on a new one.
    await new Promise((r) => setTimeout(r, 1_500));
    proxy.unstall();
    const job = await finished(body.id, 60_000);
    expect(job.status).toBe('succeeded');
    expectExact(job.result);
  });

  it.each([
    ['a .. path', '../etc/passwd'],
    ['an absolute path outside the root', '/etc/passwd'],
    ['a symlink leading out', 'escape/passwd'],
  ])('refuses %s at submit time', async (_name, path) => {
    const { status, body } = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'csv-sum',
      input: { storage: 'local', path },
    });
    expect(status).toBe(400);
    expect(body.error.code).toBe('path_outside_root');
  });

  it.each([
    ['a missing local file', { storage: 'local', path: 'in/missing.csv' }],
    ['a missing key', { storage: 's3', bucket: 'data', key: 'nope.csv' }],
    ['a missing bucket', { storage: 's3', bucket: 'no-such-bucket', key: 'x.csv' }],
  ])('fails %s at once, without retries', async (_name, input) => {
    const startedAt = Date.now();
    const { body } = await request(producer.port, 'POST', '/v1/jobs', { kind: 'csv-sum', input });
    const job = await finished(body.id);
    expect(job).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'not_found' } });
    expect(Date.now() - startedAt).toBeLessThan(5_000);
  });

  it('refuses bad input with a 400 naming the field', async () => {
    const missingKey = await request(producer.port, 'POST', '/tasks', { storage: 's3', bucket: 'data' });
    expect(missingKey.status).toBe(400);
    expect(missingKey.body.error.details.map((d: { path: string }) => d.path)).toContain('body.key');
    const badStorage = await request(producer.port, 'POST', '/tasks', { storage: 'ftp', path: 'x' });
    expect(badStorage.status).toBe(400);
  });

  it('counts the tasks being computed right now', async () => {
    proxy.stall();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(
        (
          await request(producer.port, 'POST', '/tasks', {
            storage: 's3',
            bucket: 'data',
            key: 'big/data.csv',
          })
        ).body.task_id,
      );
    await waitFor(
      'three active',
      async () => (await request(producer.port, 'GET', '/tasks/active')).body.count === 3,
      { timeoutMs: 15_000 },
    );
    proxy.unstall();
    for (const id of ids) expect((await finished(id, 60_000)).status).toBe('succeeded');
    expect((await request(producer.port, 'GET', '/tasks/active')).body).toEqual({ count: 0 });
    expect((await request(producer.port, 'GET', '/tasks/00000000-0000-4000-8000-000000000000')).status).toBe(
      404,
    );
  });

  it('honours cancellation mid-file', async () => {
    proxy.stall();
    const { body } = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'csv-sum',
      input: { storage: 's3', bucket: 'data', key: 'big/data.csv' },
    });
    await waitFor('running', async () => (await jobOf(body.id)).status === 'running');
    expect((await request(producer.port, 'DELETE', `/v1/jobs/${body.id}`)).status).toBe(202);
    await waitFor('cancelled', async () => (await jobOf(body.id)).status === 'cancelled', {
      timeoutMs: 10_000,
    });
    proxy.unstall();
    expect((await jobOf(body.id)).result).toBeNull();
  });
});
