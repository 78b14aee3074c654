import { AppError, PermanentError } from '@conveyor/platform';
import { HttpStub, type StubHandler } from '@conveyor/testkit';
import { ObjectStatusClient } from './object-status.client.js';

/** A real HTTP server per test, answering as the test says; the client under test talks to it over loopback. */
async function withUpstream(
  handler: StubHandler,
  run: (client: ObjectStatusClient, stub: HttpStub) => Promise<void>,
  options: { timeoutMs?: number; path?: string } = {},
) {
  const stub = await HttpStub.start(handler);
  const client = new ObjectStatusClient({
    baseUrl: `${stub.url}${options.path ?? ''}`,
    timeoutMs: options.timeoutMs ?? 2_000,
    maxSockets: 4,
  });
  try {
    await run(client, stub);
  } finally {
    await client.close();
    await stub.stop();
  }
}

const json =
  (status: number, body: string): StubHandler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body);
  };

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; permanent: boolean }> {
  try {
    await promise;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { code: error.code, permanent: error instanceof PermanentError };
  }
  throw new Error('expected the call to fail');
}

describe('ObjectStatusClient', () => {
  it('reads the status of an object, reusing keep-alive connections', async () => {
    const paths: string[] = [];
    const sockets = new Set<unknown>();
    await withUpstream(
      (req, res) => {
        paths.push(req.url ?? '');
        sockets.add(req.socket);
        const id = Number(req.url?.split('/').pop());
        json(200, JSON.stringify({ id, online: id % 2 === 0 }))(req, res, '');
      },
      async (client) => {
        await expect(client.fetchStatus(4)).resolves.toEqual({ id: 4, online: true });
        await expect(client.fetchStatus(7)).resolves.toEqual({ id: 7, online: false });
        for (let id = 0; id < 20; id++) await client.fetchStatus(id);
      },
    );
    expect(paths.slice(0, 2)).toEqual(['/objects/4', '/objects/7']);
    expect(paths).toHaveLength(22);
    // The pool spreads requests over its connections (maxSockets 4) but never opens one per request.
    expect(sockets.size).toBeLessThanOrEqual(4);
  });

  it('keeps a path prefix of the base URL', async () => {
    const paths: string[] = [];
    await withUpstream(
      (req, res) => {
        paths.push(req.url ?? '');
        json(200, '{"id":3,"online":true}')(req, res, '');
      },
      async (client) => {
        await client.fetchStatus(3);
      },
      { path: '/api/v2/' },
    );
    expect(paths).toEqual(['/api/v2/objects/3']);
  });

  it.each([
    ['404', json(404, '{}'), { code: 'object_not_found', permanent: true }],
    ['400', json(400, '{}'), { code: 'upstream_rejected', permanent: true }],
    ['429', json(429, '{}'), { code: 'upstream_failed', permanent: false }],
    ['500', json(500, 'oops'), { code: 'upstream_failed', permanent: false }],
    ['a body that is not JSON', json(200, '{"id":'), { code: 'upstream_bad_response', permanent: false }],
    [
      'a body of the wrong shape',
      json(200, '{"id":1,"online":"yes"}'),
      { code: 'upstream_bad_response', permanent: false },
    ],
    [
      'the answer for another object',
      json(200, '{"id":2,"online":true}'),
      { code: 'upstream_bad_response', permanent: false },
    ],
    [
      'a body over 64 KiB',
      json(200, ' '.repeat(70_000)),
      { code: 'upstream_bad_response', permanent: false },
    ],
  ])('classifies %s', async (_name, handler, expected) => {
    await withUpstream(handler, async (client) => {
      expect(await codeOf(client.fetchStatus(1))).toEqual(expected);
    });
  });

  it('gives up on an upstream that never answers after the timeout', async () => {
    await withUpstream(
      () => undefined,
      async (client) => {
        const started = Date.now();
        expect(await codeOf(client.fetchStatus(1))).toEqual({
          code: 'upstream_unreachable',
          permanent: false,
        });
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        // A precise deadline: undici's own timeouts tick every half second and fired at ~900 ms.
        expect(Date.now() - started).toBeLessThan(700);
      },
      { timeoutMs: 300 },
    );
  });

  it('answers that arrive after the deadline do not count: the check fails', async () => {
    await withUpstream(
      (_req, res) => setTimeout(() => json(200, '{"id":1,"online":true}')(_req, res, ''), 500),
      async (client) => {
        expect(await codeOf(client.fetchStatus(1))).toEqual({
          code: 'upstream_unreachable',
          permanent: false,
        });
      },
      { timeoutMs: 200 },
    );
  });

  it('reports a refused connection as unreachable (transient)', async () => {
    const stub = await HttpStub.start(() => undefined);
    const url = stub.url;
    await stub.stop();
    const client = new ObjectStatusClient({ baseUrl: url, timeoutMs: 1_000, maxSockets: 1 });
    try {
      expect(await codeOf(client.fetchStatus(1))).toEqual({ code: 'upstream_unreachable', permanent: false });
    } finally {
      await client.close();
    }
  });

  it('reads a body that arrives in several chunks', async () => {
    await withUpstream(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"id":5,');
        setTimeout(() => res.end('"online":true}'), 20);
      },
      async (client) => {
        await expect(client.fetchStatus(5)).resolves.toEqual({ id: 5, online: true });
      },
    );
  });

  it('fails at once, sending nothing, when its signal is already aborted', async () => {
    const paths: string[] = [];
    await withUpstream(
      (req, res) => {
        paths.push(req.url ?? '');
        json(200, JSON.stringify({ id: Number(req.url?.split('/').pop()), online: true }))(req, res, '');
      },
      async (client) => {
        expect(await codeOf(client.fetchStatus(1, AbortSignal.abort()))).toEqual({
          code: 'upstream_unreachable',
          permanent: false,
        });
        await expect(client.fetchStatus(2)).resolves.toEqual({ id: 2, online: true });
      },
    );
    expect(paths).toEqual(['/objects/2']);
  });

  it('a check abandoned while it waits for a free connection fails at once and is never sent', async () => {
    const paths: string[] = [];
    const stub = await HttpStub.start((req, res) => {
      paths.push(req.url ?? '');
      setTimeout(
        () =>
          json(200, JSON.stringify({ id: Number(req.url?.split('/').pop()), online: true }))(req, res, ''),
        300,
      );
    });
    const client = new ObjectStatusClient({ baseUrl: stub.url, timeoutMs: 2_000, maxSockets: 1 });
    try {
      const first = client.fetchStatus(1);
      const controller = new AbortController();
      const queued = client.fetchStatus(2, controller.signal);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const abortedAt = Date.now();
      controller.abort();
      expect(await codeOf(queued)).toEqual({ code: 'upstream_unreachable', permanent: false });
      expect(Date.now() - abortedAt).toBeLessThan(100);
      await expect(first).resolves.toEqual({ id: 1, online: true });
      // The connection is free again, and the abandoned check did not go out on it.
      await expect(client.fetchStatus(3)).resolves.toEqual({ id: 3, online: true });
      expect(paths).toEqual(['/objects/1', '/objects/3']);
    } finally {
      await client.close();
      await stub.stop();
    }
  });

  it('stops waiting when its signal is aborted', async () => {
    await withUpstream(
      () => undefined,
      async (client) => {
        const controller = new AbortController();
        const pending = client.fetchStatus(1, controller.signal);
        setTimeout(() => controller.abort(), 50);
        expect(await codeOf(pending)).toEqual({ code: 'upstream_unreachable', permanent: false });
      },
    );
  });
});
