import { mkdtempSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { waitFor } from '@conveyor/testkit';
import {
  cleanupApp,
  consumerApp,
  createIsolatedEnv,
  producerApp,
  request,
  jobFinished,
  type IsolatedEnv,
} from '../harness.js';

/** A real image with detail, made by sharp. */
async function makeImage(
  format: 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff',
  width = 320,
  height = 200,
): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7 + (i % width) * 3) % 256;
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .toFormat(format)
    .toBuffer();
}

async function upload(
  port: number,
  path: string,
  file: Buffer | undefined,
  fields: Record<string, string>,
  fileName = 'photo.bin',
) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([file]), fileName);
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body: form });
  return { status: response.status, body: (await response.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
}

describe('image-resize jobs', () => {
  let isolated: IsolatedEnv;
  let producer: ReturnType<typeof producerApp>;
  let consumer: ReturnType<typeof consumerApp>;
  let root: string;
  let port: number;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('images');
    root = mkdtempSync(join(tmpdir(), 'images-'));
    const env = {
      ...isolated.env,
      STORAGE_ROOT: root,
      IMAGE_MAX_UPLOAD_BYTES: String(2 * 1024 * 1024),
      IMAGE_MAX_PIXELS: '4000000',
      JOB_CHECK_INTERVAL_MS: '100',
    };
    producer = producerApp(env);
    consumer = consumerApp(env);
    await producer.start();
    await consumer.start();
    port = producer.port;
  });

  afterAll(async () => {
    await consumer.stop();
    await producer.stop();
    await isolated.dispose();
  });

  const finished = (id: string) => jobFinished(port, id);

  it.each([
    ['jpeg', 'png'],
    ['png', 'webp'],
    ['webp', 'avif'],
    ['avif', 'jpeg'],
    ['gif', 'png'],
    ['tiff', 'jpeg'],
  ] as const)('resizes %s into %s, checked by decoding the result', async (input, output) => {
    const submitted = await upload(port, '/v1/images', await makeImage(input), {
      width: '64',
      height: '48',
      fit: 'cover',
      format: output,
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ kind: 'image-resize', status: 'queued' });
    const job = await finished(submitted.body.id);
    expect(job.status).toBe('succeeded');
    const response = await fetch(`http://127.0.0.1:${port}/v1/jobs/${job.id}/result`);
    expect(response.status).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get('content-type')).toBe(`image/${output}`);
    expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
    expect(response.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const meta = await sharp(bytes).metadata();
    expect([meta.width, meta.height, meta.format === 'heif' ? 'avif' : meta.format]).toEqual([
      64,
      48,
      output,
    ]);
    const etag = response.headers.get('etag')!;
    expect(
      (
        await fetch(`http://127.0.0.1:${port}/v1/jobs/${job.id}/result`, {
          headers: { 'if-none-match': etag },
        })
      ).status,
    ).toBe(304);
  });

  it('answers 404 for a result that does not exist yet', async () => {
    await consumer.stop();
    const submitted = await upload(port, '/v1/images', await makeImage('png'), { width: '10', height: '10' });
    expect((await fetch(`http://127.0.0.1:${port}/v1/jobs/${submitted.body.id}/result`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/images/result/${submitted.body.id}`)).status).toBe(
      404,
    );
    consumer = consumerApp({ ...isolated.env, STORAGE_ROOT: root, IMAGE_MAX_PIXELS: '4000000' });
    await consumer.start();
    expect((await finished(submitted.body.id)).status).toBe('succeeded');
  });

  it('refuses what is not an image, too big, or a bomb, and keeps serving', async () => {
    const text = await upload(
      port,
      '/v1/images',
      Buffer.from('this is not a png at all, just text\n'.repeat(10)),
      { width: '10', height: '10' },
      'fake.png',
    );
    expect(text.status).toBe(415);
    const huge = await upload(
      port,
      '/v1/images',
      Buffer.concat([await makeImage('png'), Buffer.alloc(3 * 1024 * 1024)]),
      { width: '10', height: '10' },
    );
    expect(huge.status).toBe(413);
    const zero = await upload(port, '/v1/images', await makeImage('png'), { width: '0', height: '0' });
    expect(zero.status).toBe(422);

    const bomb = await sharp({ create: { width: 3000, height: 3000, channels: 3, background: '#000' } })
      .png()
      .toBuffer(); // 9 MP > the 4 MP limit, a few KB
    const bombJob = await finished(
      (await upload(port, '/v1/images', bomb, { width: '10', height: '10' })).body.id,
    );
    expect(bombJob).toMatchObject({ status: 'failed', error: { code: 'too_many_pixels' } });

    const jpeg = await makeImage('jpeg', 800, 600);
    const truncated = await finished(
      (await upload(port, '/v1/images', jpeg.subarray(0, jpeg.length / 2), { width: '10', height: '10' }))
        .body.id,
    );
    expect(truncated).toMatchObject({ status: 'failed', error: { code: 'corrupt_image' } });

    const fine = await finished(
      (await upload(port, '/v1/images', await makeImage('webp'), { width: '12', height: '12' })).body.id,
    );
    expect(fine.status).toBe('succeeded');
    // Refused uploads leave no originals behind.
    const originals = readdirSync(join(root, 'images', 'originals'));
    const { body } = await request(port, 'GET', '/v1/jobs?kind=image-resize&limit=100');
    expect(originals.length).toBe(body.jobs.length);
  });

  it('takes runAt or delayMs as form fields: the upload is stored and its job scheduled', async () => {
    const png = await makeImage('png', 40, 30);
    const later = await upload(port, '/v1/images', png, { width: '20', height: '15', delayMs: '3600000' });
    expect(later.status).toBe(202);
    expect(later.body).toMatchObject({ status: 'scheduled', kind: 'image-resize' });
    expect(Date.parse(later.body.runAt) - Date.now()).toBeGreaterThan(3_500_000);
    expect((await request(port, 'DELETE', `/v1/jobs/${later.body.id}`)).body.status).toBe('cancelled');
    const both = await upload(port, '/v1/images', png, {
      width: '20',
      height: '15',
      delayMs: '10',
      runAt: '2030-01-01T00:00:00Z',
    });
    expect(both.status).toBe(400);
    expect(both.body.error).toMatchObject({ code: 'run_at_conflict', details: [{ path: 'delayMs' }] });
  });
});

describe('image result expiry', () => {
  let isolated: IsolatedEnv;
  const apps: { stop(): Promise<void> }[] = [];

  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop();
    await isolated.dispose();
  });

  it('deletes the blobs and answers 410 after RESULT_TTL_MS', async () => {
    isolated = await createIsolatedEnv('imgexpiry');
    const root = mkdtempSync(join(tmpdir(), 'images-'));
    const env = {
      ...isolated.env,
      STORAGE_ROOT: root,
      RESULT_TTL_MS: '1500',
      JOB_ROUTINE_INTERVAL_MS: '100',
    };
    const producer = producerApp(env);
    const consumer = consumerApp(env);
    const cleanup = cleanupApp(env);
    for (const app of [producer, consumer, cleanup]) {
      await app.start();
      apps.push(app);
    }
    const submitted = await upload(producer.port, '/v1/images', await makeImage('png'), {
      width: '20',
      height: '20',
    });
    const resultUrl = `http://127.0.0.1:${producer.port}/v1/jobs/${submitted.body.id}/result`;
    await waitFor('result available', async () => (await fetch(resultUrl)).status === 200);
    const { body: job } = await request(producer.port, 'GET', `/v1/jobs/${submitted.body.id}`);
    const resultFile = join(root, 'images', job.result.location.key);
    expect(existsSync(resultFile)).toBe(true);
    await waitFor('expired', async () => (await fetch(resultUrl)).status === 410, { timeoutMs: 10_000 });
    expect(existsSync(resultFile)).toBe(false);
    expect(readdirSync(join(root, 'images', 'originals'))).toEqual([]);
    expect((await request(producer.port, 'GET', `/v1/jobs/${submitted.body.id}`)).body).toMatchObject({
      status: 'succeeded',
      expired: true,
      result: null,
    });
    expect(
      (await fetch(`http://127.0.0.1:${producer.port}/api/v1/images/result/${submitted.body.id}`)).status,
    ).toBe(410);
  });
});
