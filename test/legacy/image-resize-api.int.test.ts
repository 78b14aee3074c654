import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { FaultProxy, startS3Server, waitFor, type S3Server } from '@conveyor/testkit';
import { consumerApp, createIsolatedEnv, producerApp, request, type IsolatedEnv } from '../harness.js';

/**
 * The image-resize service's API as its README and its own test suite (tests/test_resize_method.py,
 * test_status_method.py, test_result_method.py) use it: `POST /api/v1/images/resize` (multipart
 * `file`, `width`, `height`) → 202 `{"status":"accepted","message":"Upload complete","task_id"}`;
 * `GET /api/v1/status/<uuid>` → `{"status"}`, one of Celery's PENDING, SENT, STARTED, RETRY,
 * FAILURE, SUCCESS; `GET /api/v1/images/result/<uuid>` → the image; an unknown task, or a
 * result not there yet, → 404 `{"result":"error","message"}`. Written from those, not from our
 * own /v1 API, which keeps its own words.
 */
describe('the old image-resize API', () => {
  let isolated: IsolatedEnv;
  let s3: S3Server;
  let proxy: FaultProxy;
  let port: number;
  let consumerEnv: Record<string, string>;
  let png: Buffer;
  const apps: { stop(): Promise<void> }[] = [];
  const CELERY_STATES = ['PENDING', 'SENT', 'STARTED', 'RETRY', 'FAILURE', 'SUCCESS'];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('legacyimages');
    s3 = await startS3Server({ buckets: ['images'] });
    // Between the consumer and the image store only: a test holds or breaks a worker's reads there.
    proxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: s3.port });
    const env = {
      ...isolated.env,
      IMAGE_STORE: 's3',
      IMAGE_BUCKET: 'images',
      S3_ACCESS_KEY_ID: 'S3RVER',
      S3_SECRET_ACCESS_KEY: 'S3RVER',
      RETRY_DELAYS_MS: '500',
      MAX_ATTEMPTS: '20',
      JOB_CHECK_INTERVAL_MS: '100',
    };
    const producer = producerApp({ ...env, S3_ENDPOINT: s3.endpoint });
    await producer.start();
    apps.push(producer);
    port = producer.port;
    // One failed read fails the attempt, so a broken store shows as a retry at once.
    consumerEnv = { ...env, S3_ENDPOINT: `http://${proxy.url}`, S3_MAX_READ_FAILURES: '1' };
    png = await sharp({ create: { width: 320, height: 200, channels: 3, background: '#3a6' } })
      .png()
      .toBuffer();
  });

  afterAll(async () => {
    proxy.restore();
    proxy.unstall();
    for (const app of apps.reverse()) await app.stop();
    await proxy.stop();
    await s3.stop();
    await isolated.dispose();
  });

  afterEach(() => {
    proxy.restore();
    proxy.unstall();
  });

  // The old tests read JSON bodies of several shapes; `any` keeps those assertions readable.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  /** `self.client.post('/api/v1/images/resize', content_type='multipart/form-data', data=file)`. */
  async function resize(
    fields: Record<string, string>,
    file: Buffer | undefined = png,
    fileName = 'test.png',
    to = port,
  ) {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    if (file) form.append('file', new Blob([file]), fileName);
    const response = await fetch(`http://127.0.0.1:${to}/api/v1/images/resize`, {
      method: 'POST',
      body: form,
    });
    return { status: response.status, body: (await response.json()) as any };
  }
  /* eslint-enable @typescript-eslint/no-explicit-any */

  const statusOf = (taskId: string) => request(port, 'GET', `/api/v1/status/${taskId}`);
  const stateOf = async (taskId: string) => (await statusOf(taskId)).body.status as string;
  const reached = (taskId: string, state: string, timeoutMs?: number) =>
    waitFor(`task ${taskId} ${state}`, async () => (await stateOf(taskId)) === state, { timeoutMs });
  const submit = async () => {
    const submitted = await resize({ width: '100', height: '100' });
    expect(submitted.status).toBe(202);
    return submitted.body.task_id as string;
  };

  async function startConsumer(): Promise<void> {
    const consumer = consumerApp(consumerEnv);
    await consumer.start();
    apps.push(consumer);
  }

  it('accepts an upload with 202 and answers a Celery state for it, SENT while no worker has it', async () => {
    const submitted = await resize({ width: '100', height: '100' });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toEqual({
      status: 'accepted',
      message: 'Upload complete',
      task_id: expect.any(String),
    });
    const taskId = submitted.body.task_id;

    // test_status_method: two reads, both a Celery state. No consumer runs yet, so both say SENT.
    for (let read = 0; read < 2; read++) {
      const status = await statusOf(taskId);
      expect(status.status).toBe(200);
      expect(CELERY_STATES).toContain(status.body.status);
      expect(status.body).toEqual({ status: 'SENT' });
      await new Promise((resolve) => setTimeout(resolve, 100)); // the old test's time.sleep(0.1)
    }

    // Not completed yet: the result is a 404 in the old error body.
    const early = await request(port, 'GET', `/api/v1/images/result/${taskId}`);
    expect(early.status).toBe(404);
    expect(early.body).toMatchObject({ result: 'error', message: 'Result not found' });
  });

  it('says SUCCESS once done, and serves the resized image (test_result_method)', async () => {
    await startConsumer();
    const taskId = await submit();
    await reached(taskId, 'SUCCESS');
    const image = await fetch(`http://127.0.0.1:${port}/api/v1/images/result/${taskId}`);
    expect(image.status).toBe(200);
    const { width, height, format } = await sharp(Buffer.from(await image.arrayBuffer())).metadata();
    expect({ width, height, format }).toEqual({ width: 100, height: 100, format: 'png' });
    // Our own API keeps its own word for the same job.
    expect((await request(port, 'GET', `/v1/jobs/${taskId}`)).body.status).toBe('succeeded');
  });

  it('says STARTED while a worker runs the task, RETRY while a failed attempt waits, then SUCCESS', async () => {
    proxy.stall(); // the worker's read of the upload hangs: the task stays running
    const taskId = await submit();
    await reached(taskId, 'STARTED');
    proxy.cut(); // the store goes away: the read fails, and the attempt with it
    await reached(taskId, 'RETRY', 10_000);
    const job = (await request(port, 'GET', `/v1/jobs/${taskId}`)).body;
    expect(job).toMatchObject({ status: 'queued', error: { code: expect.any(String) } });
    expect(job.attempts).toBeGreaterThan(0);
    proxy.restore();
    proxy.unstall();
    await reached(taskId, 'SUCCESS', 15_000);
  });

  it('says FAILURE for an image that cannot be decoded and for a cancelled task', async () => {
    // A PNG signature, so the upload is accepted, then bytes no decoder can read.
    const broken = Buffer.concat([png.subarray(0, 33), Buffer.alloc(200, 0x5a)]);
    const corrupt = await resize({ width: '100', height: '100' }, broken);
    expect(corrupt.status).toBe(202);
    await reached(corrupt.body.task_id, 'FAILURE');
    expect((await request(port, 'GET', `/v1/jobs/${corrupt.body.task_id}`)).body.status).toBe('failed');

    proxy.stall();
    const cancelled = await submit();
    await reached(cancelled, 'STARTED');
    expect((await request(port, 'DELETE', `/v1/jobs/${cancelled}`)).status).toBe(202);
    await reached(cancelled, 'FAILURE');
    proxy.unstall();
    expect((await request(port, 'GET', `/v1/jobs/${cancelled}`)).body.status).toBe('cancelled');
    const result = await request(port, 'GET', `/api/v1/images/result/${cancelled}`);
    expect([result.status, result.body.result]).toEqual([404, 'error']);
  });

  it('answers an unknown task with 404 and {"result":"error","message"} (test_status_with_invalid_id)', async () => {
    const factorize = await request(port, 'POST', '/v1/jobs', { kind: 'factorize', input: { number: '15' } });
    // A UUID never issued, one of another kind's job, and no UUID at all.
    for (const taskId of [randomUUID(), factorize.body.id, 'not-a-uuid']) {
      const status = await statusOf(taskId);
      expect(status.status).toBe(404);
      expect(status.body).toMatchObject({ result: 'error', message: 'Task not found' });
      const result = await request(port, 'GET', `/api/v1/images/result/${taskId}`);
      expect(result.status).toBe(404);
      expect(result.body).toMatchObject({ result: 'error', message: 'Result not found' });
    }
  });

  it('refuses a bad size or a missing file with 422 in the old error body (test_resize_method)', async () => {
    const cases: [Record<string, string>, Buffer | undefined, string][] = [
      [{ width: '0', height: '0' }, png, 'test.png'], // test_resize_image_method_with_invalid_size
      [{ width: '10', height: '10' }, undefined, ''], // test_resize_image_method_with_invalid_file
      [{ width: '10', height: '10' }, png, ''], // a file part with an empty file name
      [{ width: '10', height: '-1' }, png, 'test.png'],
      [{ width: 'abc', height: '10' }, png, 'test.png'],
      [{ width: '1.5', height: '10' }, png, 'test.png'],
    ];
    for (const [fields, file, fileName] of cases) {
      const response = await resize(fields, file, fileName);
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ result: 'error', message: expect.any(String) });
      expect(response.body.message.length).toBeGreaterThan(0);
      // Beside the old fields, our code and the field at fault.
      expect(response.body.error.details.length).toBeGreaterThan(0);
    }
  });

  it('gives every other error on the old routes the old body, and leaves our own API’s errors alone', async () => {
    const secured = producerApp({
      ...isolated.env,
      AUTH_ENABLED: 'true',
      IMAGE_STORE: 's3',
      S3_ENDPOINT: s3.endpoint,
    });
    await secured.start();
    apps.push(secured);
    const unauthorized = await resize({ width: '10', height: '10' }, png, 'test.png', secured.port);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.body).toMatchObject({ result: 'error', message: expect.any(String) });

    const noRoute = await request(port, 'GET', '/api/v1/images/nothing-here');
    expect(noRoute.status).toBe(404);
    expect(noRoute.body).toMatchObject({ result: 'error', message: expect.any(String) });

    const ours = await request(port, 'GET', `/v1/jobs/${randomUUID()}`);
    expect(ours.status).toBe(404);
    expect(ours.body).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });
});
