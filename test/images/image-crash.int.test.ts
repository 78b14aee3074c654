import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ServiceProcess, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import { createIsolatedEnv, producerApp, type IsolatedEnv } from '../harness.js';

/**
 * A 6000×4000 (24 MP) JPEG with detail at every scale: waves, a checker texture and noise drawn at
 * 1500×1000 (per-pixel loops are slow under jest), then upscaled by sharp. About 4.5 MB.
 */
async function makeLargeJpeg(): Promise<Buffer> {
  const [width, height] = [1500, 1000];
  const raw = Buffer.alloc(width * height * 3);
  let seed = 0x2545f491;
  const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : v);
  for (let y = 0; y < height; y++) {
    const v = y / height;
    for (let x = 0; x < width; x++) {
      const u = x / width;
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const noise = (seed & 63) - 32;
      const waves = 60 * Math.sin(u * 37 + Math.sin(v * 23) * 3) * Math.cos(v * 41 - u * 13);
      const o = (y * width + x) * 3;
      raw[o] = clamp(128 + waves + noise);
      raw[o + 1] = clamp(100 + 100 * v - waves * 0.7 + noise);
      raw[o + 2] = clamp(90 + 120 * u + ((x ^ y) & 31) + noise);
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .resize(6000, 4000, { kernel: 'cubic' })
    .jpeg({ quality: 85 })
    .toBuffer();
}

/**
 * kill -9 of the consumer in the middle of a resize: the broker redelivers the unacked message,
 * a new consumer takes the job over (its runner stopped heartbeating), and the result is written
 * once, under the job's own key, with one `succeeded` event.
 */
describe('image-resize durability across a consumer crash', () => {
  let isolated: IsolatedEnv;
  let db: pg.Client;
  let root: string;
  let producer: ReturnType<typeof producerApp>;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('imgcrash');
    root = mkdtempSync(join(tmpdir(), 'image-crash-'));
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    producer = producerApp({
      ...isolated.env,
      STORAGE_ROOT: root,
      IMAGE_MAX_UPLOAD_BYTES: String(32 * 1024 * 1024),
    });
    await producer.start();
  });

  afterAll(async () => {
    for (const p of processes) await p.kill9();
    await producer?.stop();
    await db?.end();
    await isolated?.dispose();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const spawnConsumer = async () => {
    const consumer = ServiceProcess.start('consumer', {
      ...isolated.env,
      LOG_LEVEL: 'info',
      OPS_PORT: '0',
      STORAGE_ROOT: root,
      IMAGE_MAX_PIXELS: String(30_000_000),
      SHARP_THREADS: '1',
      JOB_CHECK_INTERVAL_MS: '100',
    });
    processes.push(consumer);
    await consumer.waitForLog(/consumer started/);
    return consumer;
  };
  const jobRow = async (id: string) =>
    (await db.query(`select status, attempts, result from "${isolated.schema}".jobs where id = $1`, [id]))
      .rows[0] as {
      status: string;
      attempts: number;
      result: { location: { key: string }; width: number; height: number; format: string } | null;
    };
  const resultFiles = () => {
    const dir = join(root, 'images', 'results');
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  it('redelivers a resize whose consumer is killed mid-resize; the result is written once', async () => {
    const image = await makeLargeJpeg();
    const first = await spawnConsumer();

    // 24 MP in, 1200×900 AVIF at quality 90 out: about 2 s of CPU for libvips on one thread.
    const form = new FormData();
    for (const [k, v] of Object.entries({
      width: '1200',
      height: '900',
      fit: 'cover',
      format: 'avif',
      quality: '90',
    }))
      form.append(k, v);
    form.append('file', new Blob([image]), 'big.jpg');
    const response = await fetch(`http://127.0.0.1:${producer.port}/v1/images`, {
      method: 'POST',
      body: form,
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };

    await waitFor('job running', async () => (await jobRow(id)).status === 'running', { intervalMs: 20 });
    await first.kill9();
    // Killed mid-resize: nothing written yet (no result, no temporary file), the row still says running.
    expect(resultFiles()).toEqual([]);
    expect(await jobRow(id)).toMatchObject({ status: 'running', attempts: 1 });

    await spawnConsumer();
    await waitFor('succeeded after redelivery', async () => (await jobRow(id)).status === 'succeeded', {
      timeoutMs: 30_000,
    });

    const done = await jobRow(id);
    expect(done.attempts).toBe(2);
    expect(done.result).toMatchObject({
      location: { key: `results/${id}.avif` },
      width: 1200,
      height: 900,
      format: 'avif',
    });
    const { rows } = await db.query(
      `select status, count(*)::int as n from "${isolated.schema}".job_events where job_id = $1 group by status`,
      [id],
    );
    const events = Object.fromEntries(rows.map((r: { status: string; n: number }) => [r.status, r.n]));
    expect(events.succeeded).toBe(1);
    expect(events.running).toBeGreaterThanOrEqual(2); // one per attempt (plus progress)
    expect(resultFiles()).toEqual([`${id}.avif`]);

    const download = await fetch(`http://127.0.0.1:${producer.port}/v1/jobs/${id}/result`);
    expect(download.status).toBe(200);
    const meta = await sharp(Buffer.from(await download.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([1200, 900]);
  });
});
