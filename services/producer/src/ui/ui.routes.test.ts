import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorHandler, notFoundHandler, silentLogger } from '@conveyor/platform';
import express from 'express';
import { uiRouter } from './ui.routes.js';

describe('uiRouter', () => {
  let dir: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'conveyor-ui-'));
    const app = express();
    app.use(uiRouter({ dir, log: silentLogger() }));
    app.use(notFoundHandler);
    app.use(errorHandler(silentLogger()));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on a port');
    base = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const get = (path: string) => fetch(`${base}${path}`);

  it('answers 503 naming the fix while the dashboard is not built', async () => {
    const response = await get('/ui/jobs/abc');
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      error: { code: 'dashboard_not_built', message: expect.stringContaining('pnpm build') },
    });
  });

  it('serves index.html, uncached, for /ui and every page below it, and hashed assets for good', async () => {
    await mkdir(join(dir, 'assets'), { recursive: true });
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>Conveyor</title>');
    await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');

    for (const path of ['/ui', '/ui/', '/ui/jobs/6f0c', '/ui/dead-letters?kind=x']) {
      const page = await get(path);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('cache-control')).toBe('no-cache');
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
      expect(await page.text()).toContain('<title>Conveyor</title>');
    }

    const asset = await get('/ui/assets/index-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    const missing = await get('/ui/assets/index-gone.js');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });

    expect((await get('/uix')).status).toBe(404);
  });
});
