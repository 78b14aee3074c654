import http from 'node:http';
import { startObjectsApi, type ObjectsApi } from './objects-api.js';

const MIN_DELAY_MS = 20;
const MAX_DELAY_MS = 60;

interface Reply {
  status: number;
  body: unknown;
  elapsedMs: number;
}

/** A keep-alive client pool like the consumers'; sockets unlimited so 1000 requests run concurrently. */
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function get(port: number, path: string, method = 'GET'): Promise<Reply> {
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path, method, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          body: JSON.parse(Buffer.concat(chunks).toString()),
          elapsedMs: performance.now() - startedAt,
        }),
      );
    });
    request.on('error', reject);
    request.end();
  });
}

describe('startObjectsApi', () => {
  let api: ObjectsApi;

  beforeEach(async () => {
    api = await startObjectsApi({
      port: 0,
      host: '127.0.0.1',
      minDelayMs: MIN_DELAY_MS,
      maxDelayMs: MAX_DELAY_MS,
    });
  });

  afterEach(async () => {
    await api.close();
  });

  afterAll(() => agent.destroy());

  it('answers GET /objects/:id after a delay within bounds; even ids are online', async () => {
    const even = await get(api.port, '/objects/42');
    const odd = await get(api.port, '/objects/7');

    expect(even).toMatchObject({ status: 200, body: { id: 42, online: true } });
    expect(odd).toMatchObject({ status: 200, body: { id: 7, online: false } });
    for (const reply of [even, odd]) {
      // Timers may fire a millisecond early relative to performance.now(); the upper bound allows for load.
      expect(reply.elapsedMs).toBeGreaterThanOrEqual(MIN_DELAY_MS - 1);
      expect(reply.elapsedMs).toBeLessThan(MAX_DELAY_MS + 200);
    }
    expect(api.stats()).toEqual({ requests: 2 });
  });

  it('spreads delays over [minDelayMs, maxDelayMs] according to random()', async () => {
    await api.close();
    const randoms = [0, 0.999];
    api = await startObjectsApi({
      port: 0,
      host: '127.0.0.1',
      minDelayMs: 0,
      maxDelayMs: 300,
      random: () => randoms.shift() ?? 0,
    });

    const fastest = await get(api.port, '/objects/0');
    const slowest = await get(api.port, '/objects/1');
    expect(fastest.elapsedMs).toBeLessThan(150);
    expect(slowest.elapsedMs).toBeGreaterThanOrEqual(298);
  });

  it.each([
    ['GET', '/objects/-1'],
    ['GET', '/objects/abc'],
    ['GET', '/objects/1.5'],
    ['GET', '/objects/99999999999999999999'],
    ['GET', '/objects'],
    ['GET', '/objects/1/extra'],
    ['GET', '/health'],
    ['POST', '/objects/1'],
  ])('answers %s %s with a 404 JSON error', async (method, path) => {
    const reply = await get(api.port, path, method);
    expect(reply.status).toBe(404);
    expect(reply.body).toEqual({ error: 'not found' });
  });

  it('answers 1000 concurrent requests', async () => {
    const ids = Array.from({ length: 1000 }, (_, id) => id);
    const replies = await Promise.all(ids.map((id) => get(api.port, `/objects/${id}`)));

    expect(replies.map((reply) => reply.body)).toEqual(ids.map((id) => ({ id, online: id % 2 === 0 })));
    expect(api.stats().requests).toBe(1000);
  });

  it('close() drops pending replies and keep-alive connections', async () => {
    await get(api.port, '/objects/1');
    const pending = get(api.port, '/objects/2');
    await new Promise((resolve) => setTimeout(resolve, 5));

    await api.close();
    await expect(pending).rejects.toThrow(/socket hang up|ECONNRESET/);
    await expect(get(api.port, '/objects/3')).rejects.toThrow(/ECONNREFUSED/);
    // afterEach closes again: closing twice must not throw either.
  });
});
