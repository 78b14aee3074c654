import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { ServiceProcess } from '@conveyor/testkit';
import { createIsolatedEnv, jobFinished, producerApp, request, type IsolatedEnv } from '../harness.js';

const LOMO = pathToFileURL(resolve(__dirname, '../../examples/lomo/lomo.ts')).href;
const TSX_LOADER = pathToFileURL(
  createRequire(resolve(__dirname, '../../services/consumer/package.json')).resolve('tsx'),
).href;

/** examples/lomo, a kind written only against the public SDK, hosted as `pnpm worker` would host it. */
describe('the lomo example', () => {
  let isolated: IsolatedEnv;
  let producer: ReturnType<typeof producerApp>;
  let host: ServiceProcess;
  let dir: string;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('lomo');
    dir = mkdtempSync(join(tmpdir(), 'lomo-'));
    producer = producerApp(isolated.env);
    await producer.start();
    host = ServiceProcess.start('consumer', {
      ...isolated.env,
      LOG_LEVEL: 'info',
      OPS_PORT: '0',
      BUILT_IN_KINDS: 'false',
      WORKER_MODULES: LOMO,
      LOMO_DIR: dir,
      NODE_OPTIONS: `--import=${TSX_LOADER}`,
    });
    await host.waitForLog(/consumer started/);
  });

  afterAll(async () => {
    await host.stop();
    await producer.stop();
    await isolated.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('darkens the corners of a submitted image and keeps its size', async () => {
    await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 180, b: 160 } } })
      .jpeg()
      .toFile(join(dir, 'photo.jpg'));
    const submitted = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'lomo',
      input: { source: 'photo.jpg', strength: 1 },
    });
    expect(submitted.status).toBe(202);
    const job = await jobFinished(producer.port, submitted.body.id);
    expect(job).toMatchObject({
      status: 'succeeded',
      result: { output: `lomo/${job.id}.jpg`, width: 64, height: 48 },
    });

    const { data, info } = await sharp(join(dir, job.result.output))
      .raw()
      .toBuffer({ resolveWithObject: true });
    const brightness = (x: number, y: number) => data[(y * info.width + x) * info.channels]!;
    expect(brightness(0, 0)).toBeLessThan(brightness(32, 24) - 40);
  });

  it('refuses a path outside its folder with 422, and fails an unreadable image at once', async () => {
    const outside = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'lomo',
      input: { source: '../etc/passwd' },
    });
    expect(outside.status).toBe(422);
    expect(outside.body.error.details[0].path).toBe('body.input.source');
    const missing = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'lomo',
      input: { source: 'missing.jpg' },
    });
    expect(await jobFinished(producer.port, missing.body.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'unreadable_image' },
    });
  });
});
