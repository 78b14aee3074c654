import sharp from 'sharp';
import {
  ConveyorClient,
  ConveyorError,
  ConveyorNetworkError,
  type Job,
  type JobProgress,
} from '@conveyor/client';
import { QUICK_SEMIPRIME, SLOW_SEMIPRIME, VERY_SLOW_SEMIPRIME } from '../harness.js';
import { startAuthStack, type AuthStack } from './auth-stack.js';

/** Every job call of @conveyor/client against a real producer and consumer, API keys on. */
describe('@conveyor/client: jobs', () => {
  let stack: AuthStack;
  let operator: ConveyorClient;
  /** A client key made over the API by the operator: its own jobs only. */
  let client: ConveyorClient;
  let created: { apiKey: string };

  beforeAll(async () => {
    stack = await startAuthStack('clientjobs');
    operator = new ConveyorClient({ baseUrl: stack.baseUrl, apiKey: stack.operatorKey });
    created = await operator.createClient({ name: 'shop' });
    expect(created).toMatchObject({ role: 'client', clientId: expect.stringMatching(/^cl_/) });
    client = new ConveyorClient({ baseUrl: `${stack.baseUrl}/`, apiKey: created.apiKey });
  });

  afterAll(() => stack.stop());

  it('submits, gets and waits for a job, typed by its kind', async () => {
    const job = await client.submit('factorize', { number: QUICK_SEMIPRIME.n }, { customId: 'quick-1' });
    expect(job).toMatchObject({ kind: 'factorize', status: 'queued', customId: 'quick-1' });
    expect((await client.get(job.id)).id).toBe(job.id);
    const done = await client.wait(job);
    expect(done.status).toBe('succeeded');
    // Typed as FactorizeResult | null: no cast needed to read the factors.
    expect(done.result?.factors).toEqual(QUICK_SEMIPRIME.factors);
    const result = await client.result(done);
    expect(result).toEqual({ type: 'json', value: done.result });
  });

  it('submits a delayed job with its own policy: scheduled, and cancelled at once', async () => {
    // No cleanup runs here (it queues due jobs): test/scheduling runs them; this is the client's part.
    const runAt = new Date(Date.now() + 3_600_000);
    const job = await client.submit(
      'factorize',
      { number: 91 },
      { runAt, timeoutMs: 10_000, maxAttempts: 2 },
    );
    expect(job).toMatchObject({
      status: 'scheduled',
      runAt: runAt.toISOString(),
      timeoutMs: 10_000,
      maxAttempts: 2,
    });
    expect((await client.cancel(job.id)).status).toBe('cancelled');
  });

  it('returns the same job for the same Idempotency-Key, and refuses the key with another input', async () => {
    const key = `idem-${Math.random()}`;
    const first = await client.submit('factorize', { number: 360 }, { idempotencyKey: key });
    const again = await client.submit('factorize', { number: 360 }, { idempotencyKey: key });
    expect(again.id).toBe(first.id);
    await expect(client.submit('factorize', { number: 361 }, { idempotencyKey: key })).rejects.toMatchObject({
      code: 'idempotency_key_reused',
      status: 422,
    });
  });

  it.each([
    ['over the live stream', true],
    ['by polling', false],
  ])('reports progress while waiting %s', async (_how, live) => {
    const requested: string[] = [];
    const watched = new ConveyorClient({
      baseUrl: stack.baseUrl,
      apiKey: created.apiKey,
      fetch: (input, init) => {
        requested.push(new URL(String(input)).pathname);
        return fetch(input, init);
      },
    });
    const job = await watched.submit('factorize', { number: SLOW_SEMIPRIME.n });
    const seen: JobProgress[] = [];
    const done = await watched.wait(job.id, { live, onProgress: (progress) => seen.push(progress) });
    expect(done.status).toBe('succeeded');
    expect(seen.some((p) => p.fraction > 0 && p.fraction < 1)).toBe(true);
    expect(seen.at(-1)?.fraction).toBe(1);
    const reads = requested.slice(1);
    // One stream for the whole wait, or a poll a second (Retry-After: 1) and no stream.
    if (live) expect(reads).toEqual([`/v1/jobs/${job.id}/live`]);
    else {
      expect(reads.length).toBeGreaterThan(1);
      expect(new Set(reads)).toEqual(new Set([`/v1/jobs/${job.id}`]));
    }
  });

  it('rejects a wait with an AbortError when its signal aborts; the job goes on until cancelled', async () => {
    const job = await client.submit('factorize', { number: VERY_SLOW_SEMIPRIME.n });
    const controller = new AbortController();
    const waiting = client.wait(job, {
      signal: controller.signal,
      onProgress: (_p, seen) => seen.status === 'running' && controller.abort(),
    });
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
    expect((await client.get(job.id)).status).toBe('running');
    const cancelling = await client.cancel(job.id);
    expect(['running', 'cancelled']).toContain(cancelling.status);
    const cancelled = await client.wait(job.id, { live: false, pollMs: 100 });
    expect(cancelled.status).toBe('cancelled');

    const retried = await client.retry(job.id);
    expect(retried).toMatchObject({ id: job.id, status: 'queued' });
    await client.cancel(job.id);
    expect((await client.wait(job.id)).status).toBe('cancelled');
  });

  it('iterates over every page of the list, with filters', async () => {
    const lister = new ConveyorClient({
      baseUrl: stack.baseUrl,
      apiKey: (await operator.createClient({ name: 'lister' })).apiKey,
    });
    const submitted: Job[] = [];
    for (let i = 0; i < 7; i++)
      submitted.push(await lister.submit('factorize', { number: 100 + i }, { customId: `list-${i}` }));
    const listed: Job[] = [];
    for await (const job of lister.list({ kind: 'factorize', pageSize: 2 })) listed.push(job);
    expect(listed.map((job) => job.id).sort()).toEqual(submitted.map((job) => job.id).sort());
    const one: Job[] = [];
    for await (const job of lister.list({ customId: 'list-3' })) one.push(job);
    expect(one.map((job) => job.id)).toEqual([submitted[3]!.id]);
    // The operator sees them too, filtered to that client.
    const page = await operator.page({ kind: 'factorize', pageSize: 100 });
    expect(page.jobs.length).toBeGreaterThanOrEqual(7);
  });

  it("reads a job's history and the stats", async () => {
    const job = await client.wait(await client.submit('factorize', { number: '1234' }));
    const history = await client.events(job.id);
    expect(history.jobId).toBe(job.id);
    expect(
      history.entries.filter((e) => e.type === 'status').map((e) => e.type === 'status' && e.status),
    ).toEqual(expect.arrayContaining(['queued', 'succeeded']));
    const stats = await client.stats();
    expect(stats.byKind.factorize?.succeeded).toBeGreaterThanOrEqual(1);
  });

  it('uploads an image and streams the resized result', async () => {
    const width = 320;
    const height = 200;
    const raw = Buffer.alloc(width * height * 3, 90);
    const png = await sharp(raw, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer();
    const job = await client.uploadImage(new Blob([png]), {
      width: 64,
      height: 40,
      format: 'webp',
      fileName: 'a.png',
    });
    expect(job).toMatchObject({ kind: 'image-resize', status: 'queued' });
    const done = await client.wait(job);
    expect(done.status).toBe('succeeded');
    expect(done.result?.contentType).toBe('image/webp');
    const result = await client.result(done);
    expect(result.type).toBe('file');
    if (result.type !== 'file') return;
    expect(result.contentType).toBe('image/webp');
    const bytes = await result.bytes();
    expect(bytes.length).toBe(result.contentLength);
    const metadata = await sharp(bytes).metadata();
    expect(metadata).toMatchObject({ format: 'webp', width: 64, height: 40 });
  });

  it('refuses an upload with a bad field as a 422 naming it', async () => {
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const error = await client.uploadImage(new Blob([png]), { width: 0, height: 10 }).catch((e) => e);
    expect(error).toBeInstanceOf(ConveyorError);
    expect(error).toMatchObject({ status: 422, code: 'validation_failed', details: [{ path: 'width' }] });
  });

  describe('errors', () => {
    it('a 404 carries the code, message, status and correlation id', async () => {
      const error = await client.get('00000000-0000-4000-8000-000000000000').catch((e) => e);
      expect(error).toBeInstanceOf(ConveyorError);
      expect(error).toMatchObject({
        code: 'not_found',
        status: 404,
        message: expect.stringContaining('no job'),
      });
      expect(error.correlationId).toMatch(/\S/);
    });

    it('a job another client owns is a 404 (never a 403)', async () => {
      const own = await client.submit('factorize', { number: 12 });
      const other = new ConveyorClient({
        baseUrl: stack.baseUrl,
        apiKey: (await operator.createClient({ name: 'other' })).apiKey,
      });
      await expect(other.get(own.id)).rejects.toMatchObject({ status: 404 });
    });

    it('a 422 carries the details', async () => {
      const error = await client.submit('no-such-kind', {}).catch((e) => e);
      expect(error).toMatchObject({
        code: 'unknown_kind',
        status: 422,
        details: [{ path: 'body.kind', message: expect.stringContaining('factorize') }],
      });
    });

    it('a 400 names the bad input', async () => {
      await expect(client.submit('factorize', { number: '12a' })).rejects.toMatchObject({
        code: 'invalid_number',
        status: 400,
        details: [{ path: 'body.input.number' }],
      });
    });

    it('401 without a key or with a bad one, 403 for a client key on an operator route', async () => {
      const anonymous = new ConveyorClient({ baseUrl: stack.baseUrl });
      await expect(anonymous.stats()).rejects.toMatchObject({ code: 'unauthorized', status: 401 });
      const wrong = new ConveyorClient({ baseUrl: stack.baseUrl, apiKey: 'cvk_wrong' });
      await expect(wrong.stats()).rejects.toMatchObject({ status: 401 });
      await expect(client.overview()).rejects.toMatchObject({ code: 'operator_only', status: 403 });
      await expect(client.createClient({ name: 'x' })).rejects.toMatchObject({
        code: 'operator_only',
        status: 403,
      });
    });

    it('an unreachable API is a ConveyorNetworkError, not a ConveyorError', async () => {
      const nowhere = new ConveyorClient({ baseUrl: 'http://127.0.0.1:1' });
      const error = await nowhere.stats().catch((e) => e);
      expect(error).toBeInstanceOf(ConveyorNetworkError);
      expect(error).not.toBeInstanceOf(ConveyorError);
    });
  });
});
