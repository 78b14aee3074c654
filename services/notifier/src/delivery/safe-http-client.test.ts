import dns from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { AddressPolicy } from '@conveyor/webhooks';
import { postWebhook, WebhookRequestError, type PostWebhookRequest } from './safe-http-client.js';

const loopbackAllowed = new AddressPolicy({ allowLoopback: true, allowPrivate: false, allowList: [] });
const strict = new AddressPolicy({ allowLoopback: false, allowPrivate: false, allowList: [] });

interface TestServer {
  url: string;
  port: number;
  connections: () => number;
  requests: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }>;
  close: () => Promise<void>;
}

const servers: TestServer[] = [];
afterEach(async () => {
  jest.restoreAllMocks();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function startServer(handler: http.RequestListener): Promise<TestServer> {
  let connections = 0;
  const requests: TestServer['requests'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, res);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const testServer: TestServer = {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    connections: () => connections,
    requests,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  servers.push(testServer);
  return testServer;
}

function post(overrides: Partial<PostWebhookRequest> & { url: string }) {
  return postWebhook({
    headers: { 'content-type': 'application/json', 'webhook-id': 'msg_1' },
    body: '{"status":"succeeded"}',
    timeoutMs: 2_000,
    maxResponseBytes: 4_096,
    policy: loopbackAllowed,
    ...overrides,
  });
}

async function failureOf(promise: Promise<unknown>): Promise<WebhookRequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof WebhookRequestError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

describe('postWebhook', () => {
  it('POSTs the exact body and headers and returns a 2xx answer', async () => {
    const server = await startServer((_req, res) => res.writeHead(200, { 'x-receipt': 'r1' }).end('ok'));
    // Proves the spy used below to show refused URLs never open a socket does see real connections.
    const connect = jest.spyOn(net.Socket.prototype, 'connect');
    const response = await post({ url: server.url });

    expect(connect).toHaveBeenCalled();
    expect(response).toMatchObject({ status: 200, bodySnippet: 'ok', bodyTruncated: false });
    expect(response.headers['x-receipt']).toBe('r1');
    expect(response.durationMs).toBeGreaterThanOrEqual(0);
    expect(server.requests).toEqual([
      expect.objectContaining({
        method: 'POST',
        url: '/hooks',
        body: '{"status":"succeeded"}',
        headers: expect.objectContaining({
          'webhook-id': 'msg_1',
          'content-length': '22',
          'user-agent': 'Conveyor-Webhooks/1.0',
        }),
      }),
    ]);
  });

  it('keeps the connection to an origin alive for the next webhook', async () => {
    const server = await startServer((_req, res) => res.writeHead(200).end('ok'));
    await post({ url: server.url });
    await post({ url: server.url });
    await Promise.all([post({ url: server.url }), post({ url: server.url })]);
    expect(server.requests).toHaveLength(4);
    expect(server.connections()).toBe(2);
  });

  it('leaves no listener of its own behind on a kept-alive socket', async () => {
    const server = await startServer((_req, res) => res.writeHead(200).end('ok'));
    const sockets = new Set<net.Socket>();
    const request = http.request.bind(http) as (url: URL, options: http.RequestOptions) => http.ClientRequest;
    jest.spyOn(http, 'request').mockImplementation(((url: URL, options: http.RequestOptions) => {
      const req = request(url, options);
      req.on('socket', (socket) => sockets.add(socket));
      return req;
    }) as typeof http.request);
    for (let i = 0; i < 20; i += 1) await post({ url: server.url });
    expect(server.connections()).toBe(1);
    expect([...sockets].map((s) => [s.listenerCount('connect'), s.listenerCount('secureConnect')])).toEqual([
      [0, 0],
    ]);
  });

  it('sends again on a fresh connection when the server closed the kept-alive one under it', async () => {
    const served = new WeakMap<object, number>();
    const server = await startServer((req, res) => {
      const count = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, count);
      // The second request on a connection finds it closed, like a server's keep-alive timeout racing it.
      if (count > 1) req.socket.destroy();
      else res.writeHead(200).end('ok');
    });
    await post({ url: server.url });
    await expect(post({ url: server.url })).resolves.toMatchObject({ status: 200 });
    expect(server.connections()).toBe(2);
    expect(server.requests).toHaveLength(3);
  });

  it('never reuses a socket opened under a looser policy', async () => {
    const server = await startServer((_req, res) => res.writeHead(204).end());
    const url = `http://localhost:${server.port}/hooks`;
    await expect(post({ url, policy: loopbackAllowed })).resolves.toMatchObject({ status: 204 });
    await expect(failureOf(post({ url, policy: strict }))).resolves.toMatchObject({
      code: 'address_refused',
    });
    expect(server.requests).toHaveLength(1);
  });

  it('returns a redirect as a status without following it', async () => {
    const target = await startServer((_req, res) => res.writeHead(200).end());
    const server = await startServer((_req, res) => res.writeHead(307, { location: target.url }).end());

    await expect(post({ url: server.url })).resolves.toMatchObject({ status: 307 });
    expect(target.connections()).toBe(0);
  });

  it('enforces the timeout as a hard deadline even when the server trickles a byte every 100 ms', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200);
      const trickle = setInterval(() => res.write('.'), 100);
      res.on('close', () => clearInterval(trickle));
    });

    const startedAt = Date.now();
    const error = await failureOf(post({ url: server.url, timeoutMs: 500 }));

    expect(error.code).toBe('timeout');
    expect(error.message).toContain('reading the response body');
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    expect(error.durationMs).toBeGreaterThanOrEqual(490);
  });

  it('times out when the response never starts', async () => {
    const server = await startServer(() => undefined);
    const error = await failureOf(post({ url: server.url, timeoutMs: 300 }));
    expect(error).toMatchObject({
      code: 'timeout',
      message: expect.stringContaining('awaiting the response'),
    });
  });

  it('keeps only the start of a huge body and stops reading', async () => {
    let bytesWritten = 0;
    const server = await startServer((_req, res) => {
      res.writeHead(200);
      const chunk = 'x'.repeat(64 * 1024);
      const pump = () => {
        while (!res.destroyed && bytesWritten < 64 * 1024 * 1024 && res.write(chunk))
          bytesWritten += chunk.length;
        if (!res.destroyed && bytesWritten < 64 * 1024 * 1024) res.once('drain', pump);
      };
      pump();
    });

    const response = await post({ url: server.url, maxResponseBytes: 4_096 });

    expect(response).toMatchObject({ status: 200, bodyTruncated: true });
    expect(response.bodySnippet).toBe('x'.repeat(4_096));
    expect(bytesWritten).toBeLessThan(64 * 1024 * 1024);
  });

  it.each(['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.1/hooks', 'http://[fd00:ec2::254]/'])(
    'refuses %s at once, without opening a socket',
    async (url) => {
      const connect = jest.spyOn(net.Socket.prototype, 'connect');
      const startedAt = Date.now();

      const error = await failureOf(post({ url, policy: strict }));

      expect(error.code).toBe('address_refused');
      expect(Date.now() - startedAt).toBeLessThan(200);
      expect(connect).not.toHaveBeenCalled();
    },
  );

  it('refuses an IPv4-mapped IPv6 literal pointing at loopback', async () => {
    const server = await startServer((_req, res) => res.writeHead(200).end());
    const error = await failureOf(
      post({ url: `http://[::ffff:127.0.0.1]:${server.port}/hooks`, policy: strict }),
    );
    expect(error).toMatchObject({ code: 'address_refused', message: expect.stringContaining('loopback') });
    expect(server.connections()).toBe(0);
  });

  it('checks the addresses a host name resolves to: localhost is refused unless loopback is allowed', async () => {
    const server = await startServer((_req, res) => res.writeHead(204).end());
    const url = `http://localhost:${server.port}/hooks`;

    const error = await failureOf(post({ url, policy: strict }));
    expect(error).toMatchObject({
      code: 'address_refused',
      message: expect.stringMatching(/^localhost resolves to a forbidden address/),
    });
    expect(server.connections()).toBe(0);

    await expect(post({ url, policy: loopbackAllowed })).resolves.toMatchObject({ status: 204 });
  });

  it('refuses at connect time a host name that resolves to an IPv4-translated metadata address', async () => {
    // The resolver's answer is the attacker's to choose; here it is ::ffff:0:169.254.169.254.
    const lookup = jest
      .spyOn(dns, 'lookup')
      .mockImplementation(((
        _hostname: string,
        _options: dns.LookupAllOptions,
        callback: (error: null, addresses: dns.LookupAddress[]) => void,
      ) => callback(null, [{ address: '::ffff:0:a9fe:a9fe', family: 6 }])) as unknown as typeof dns.lookup);

    const error = await failureOf(post({ url: 'http://hooks.example.test/', policy: loopbackAllowed }));

    expect(lookup).toHaveBeenCalledWith('hooks.example.test', expect.anything(), expect.any(Function));
    expect(error).toMatchObject({
      code: 'address_refused',
      message:
        'hooks.example.test resolves to a forbidden address: ::ffff:0:a9fe:a9fe is a cloud metadata address.',
    });
  });

  it('lets an allow-listed host name through whatever it resolves to', async () => {
    const server = await startServer((_req, res) => res.writeHead(200).end());
    const policy = new AddressPolicy({ allowLoopback: false, allowPrivate: false, allowList: ['localhost'] });
    await expect(post({ url: `http://localhost:${server.port}/`, policy })).resolves.toMatchObject({
      status: 200,
    });
  });

  it('reports a refused connection as connect_failed', async () => {
    const server = await startServer(() => undefined);
    const url = server.url;
    await server.close();
    await expect(failureOf(post({ url }))).resolves.toMatchObject({ code: 'connect_failed' });
  });

  it('reports a failed TLS handshake as tls_failed', async () => {
    const server = await startServer((_req, res) => res.writeHead(200).end());
    const error = await failureOf(post({ url: server.url.replace('http:', 'https:') }));
    expect(error.code).toBe('tls_failed');
  });

  it('fails with aborted when its signal fires', async () => {
    const server = await startServer(() => undefined);
    const controller = new AbortController();
    const pending = post({ url: server.url, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(failureOf(pending)).resolves.toMatchObject({ code: 'aborted' });
  });

  it('refuses an invalid URL before any network activity', async () => {
    await expect(failureOf(post({ url: 'ftp://example.com/' }))).resolves.toMatchObject({
      code: 'invalid_url',
    });
  });
});
