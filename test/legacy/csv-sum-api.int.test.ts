import { randomUUID } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultProxy, startS3Server, waitFor, type S3Server } from '@conveyor/testkit';
import { createIsolatedEnv, request, startServices, type IsolatedEnv, type Services } from '../harness.js';
import { csvStorageEnv, putObjects, writeCsvFixture } from '../csv-sum/csv-fixture.js';

/**
 * The CSV-sum service's three endpoints as its description gives them: `POST /tasks` with the
 * file's place in storage (`{"storage":"s3","bucket","key"}`, or a path on the local disk)
 * answers the task's id; `GET /tasks/<id>` shows the task and, once done, the sums of every
 * 10th column as JSON; a third endpoint counts the tasks being computed right now
 * (`GET /tasks/active`). Written from that description, not from our own /v1 API.
 */
describe('the old CSV-sum API', () => {
  let isolated: IsolatedEnv;
  let root: string;
  let s3: S3Server;
  let proxy: FaultProxy;
  let expected: Map<number, string>;
  let services: Services;
  let port: number;
  const ROWS = 2_000;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('legacycsv');
    root = mkdtempSync(join(tmpdir(), 'legacy-csv-'));
    mkdirSync(join(root, 'in'));
    ({ sums: expected } = await writeCsvFixture(join(root, 'in', 'data.csv'), ROWS));
    s3 = await startS3Server({ buckets: ['reports'] });
    await putObjects(s3, 'reports', { '2026/data.csv': await readFile(join(root, 'in', 'data.csv')) });
    // Between the consumer and S3, so a test can hold tasks mid-computation.
    proxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: s3.port });
    services = await startServices({ ...isolated.env, ...csvStorageEnv(root, `http://${proxy.url}`) });
    ({ port } = services);
  });

  afterAll(async () => {
    proxy.unstall();
    await services.stop();
    await proxy.stop();
    await s3.stop();
    rmSync(root, { recursive: true, force: true });
    await isolated.dispose();
  });

  const submit = (body: unknown) => request(port, 'POST', '/tasks', body);
  const done = (taskId: string) =>
    waitFor(`task ${taskId} done`, async () => {
      const { status, body } = await request(port, 'GET', `/tasks/${taskId}`);
      expect(status).toBe(200);
      return body.status === 'succeeded' || body.status === 'failed' ? body : undefined;
    });
  /** Exact decimals, compared without trailing fraction zeros ("1.50" is "1.5"). */
  const canonical = (decimal: string) =>
    decimal.includes('.') ? decimal.replace(/0+$/, '').replace(/\.$/, '') : decimal;
  const expectSums = (result: { columns: { column: number; sum: string }[] }) => {
    expect(result.columns.map((c) => [c.column, canonical(c.sum)])).toEqual(
      [10, 20, 30].map((c) => [c, expected.get(c)]),
    );
  };

  it('sums every 10th column of a file in S3, as the README curl asks', async () => {
    const submitted = await submit({ storage: 's3', bucket: 'reports', key: '2026/data.csv' });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toEqual({ task_id: expect.any(String), status: 'queued' });
    const task = await done(submitted.body.task_id);
    expect(task).toMatchObject({ task_id: submitted.body.task_id, status: 'succeeded', error: null });
    expect(task.result.rowsRead).toBe(ROWS);
    expectSums(task.result);
  });

  it('sums a file from the local disk', async () => {
    const submitted = await submit({ storage: 'local', path: 'in/data.csv' });
    expect(submitted.status).toBe(202);
    const task = await done(submitted.body.task_id);
    expect(task.status).toBe('succeeded');
    expectSums(task.result);
  });

  it('runs several tasks of one client at once and counts those being computed', async () => {
    expect((await request(port, 'GET', '/tasks/active')).body).toEqual({ count: 0 });
    proxy.stall(); // every read from S3 hangs: the tasks stay mid-computation
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      ids.push((await submit({ storage: 's3', bucket: 'reports', key: '2026/data.csv' })).body.task_id);
    }
    await waitFor(
      'two tasks in work',
      async () => (await request(port, 'GET', '/tasks/active')).body.count === 2,
    );
    proxy.unstall();
    for (const id of ids) expect((await done(id)).status).toBe('succeeded');
    expect((await request(port, 'GET', '/tasks/active')).body).toEqual({ count: 0 });
  });

  it('shows a task whose file is missing as failed, with the reason', async () => {
    const submitted = await submit({ storage: 's3', bucket: 'reports', key: 'missing.csv' });
    expect(submitted.status).toBe(202);
    const task = await done(submitted.body.task_id);
    expect(task).toMatchObject({ status: 'failed', result: null, error: { code: 'not_found' } });
  });

  it('answers an unknown task id with 404 and a JSON error', async () => {
    for (const id of [randomUUID(), '42']) {
      const { status, body } = await request(port, 'GET', `/tasks/${id}`);
      expect(status).toBe(404);
      expect(body.error).toMatchObject({ code: 'not_found', message: `task ${id} does not exist` });
    }
  });

  it('refuses a request that names no file with 400 naming the field', async () => {
    const missingKey = await submit({ storage: 's3', bucket: 'reports' });
    expect(missingKey.status).toBe(400);
    expect(missingKey.body.error.details.map((d: { path: string }) => d.path)).toContain('body.key');
    expect((await submit({ storage: 'ftp', path: 'x.csv' })).status).toBe(400);
    expect((await submit({ storage: 'local', path: '../etc/passwd' })).status).toBe(400);
  });
});
