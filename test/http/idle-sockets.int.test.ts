import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, memoryLogger, waitAtMost } from '@conveyor/platform';
import { waitFor } from '@conveyor/testkit';
import { ProducerEnv } from '../../services/producer/src/config.js';
import { ProducerApp } from '../../services/producer/src/producer-app.js';
import { createIsolatedEnv, producerApp, request, type IsolatedEnv } from '../harness.js';

/** The bound the test configures: headers within 500 ms, and 500 ms of keep-alive idleness. */
const BOUND_MS = 500;
/** Longer than any close the server owes us (bound + its check interval + a loaded machine). */
const CLOSE_WITHIN_MS = 5_000;

interface RawConnection {
  socket: net.Socket;
  /** Everything the server sent, as text. */
  received(): string;
  /** Resolves, with the ms since connect, once the server closed the socket. */
  closed: Promise<number>;
}

const open: net.Socket[] = [];

async function connect(port: number): Promise<RawConnection> {
  const socket = net.connect(port, '127.0.0.1');
  open.push(socket);
  let data = '';
  let connectedAt = Date.now();
  socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
  // A reset is one way for the server to close: 'close' follows and says what matters.
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(Date.now() - connectedAt)),
  );
  await once(socket, 'connect');
  connectedAt = Date.now();
  return { socket, received: () => data, closed };
}

async function expectClosed(connection: RawConnection): Promise<number> {
  expect(await waitAtMost(connection.closed, CLOSE_WITHIN_MS)).toBe(true);
  return connection.closed;
}

/**
 * Every HTTP port (the API's and the ops port) closes a socket that sends nothing, or sits idle,
 * after a configured bound, and holds at most HTTP_MAX_CONNECTIONS connections; a request that
 * is slow but keeps sending is served.
 */
describe('idle sockets and connection cap', () => {
  let isolated: IsolatedEnv;
  let bounded: ReturnType<typeof producerApp>;
  let capped: ProducerApp;
  const cappedLogs = memoryLogger('warn');

  beforeAll(async () => {
    isolated = await createIsolatedEnv('idlesockets');
    bounded = producerApp({
      ...isolated.env,
      HTTP_HEADERS_TIMEOUT_MS: String(BOUND_MS),
      HTTP_KEEP_ALIVE_TIMEOUT_MS: String(BOUND_MS),
      HTTP_REQUEST_TIMEOUT_MS: '10000',
    });
    capped = new ProducerApp(
      loadConfig(ProducerEnv, { ...isolated.env, PORT: '0', OPS_PORT: '0', HTTP_MAX_CONNECTIONS: '3' }),
      cappedLogs.log,
    );
    await bounded.start();
    await capped.start();
  });

  afterEach(() => {
    for (const socket of open.splice(0)) socket.destroy();
  });

  afterAll(async () => {
    await bounded.stop();
    await capped.stop();
    await isolated.dispose();
  });

  it('closes a socket that never sends a byte after the bound, on the API and the ops port', async () => {
    for (const port of [bounded.port, bounded.opsPort]) {
      const silent = await connect(port);
      const lifetimeMs = await expectClosed(silent);
      expect(lifetimeMs).toBeGreaterThanOrEqual(BOUND_MS - 50);
      expect(silent.received()).toMatch(/^HTTP\/1\.1 408 /);
    }
  });

  it('closes 200 silent connections, none left open', async () => {
    const silent = await Promise.all(Array.from({ length: 200 }, () => connect(bounded.port)));
    await Promise.all(silent.map(expectClosed));
  });

  it('closes a socket that trickles its headers without ever finishing them', async () => {
    const slowloris = await connect(bounded.port);
    slowloris.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
    const trickle = setInterval(
      () => slowloris.socket.writable && slowloris.socket.write('X-Pad: a\r\n'),
      100,
    );
    try {
      const lifetimeMs = await expectClosed(slowloris);
      expect(lifetimeMs).toBeGreaterThanOrEqual(BOUND_MS - 50);
    } finally {
      clearInterval(trickle);
    }
  });

  it('closes a kept-alive connection once idle for the bound after its response', async () => {
    const keptAlive = await connect(bounded.port);
    keptAlive.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor('the response', () => keptAlive.received().includes('{"status":"ok"}'));
    const answeredAt = Date.now();
    await expectClosed(keptAlive);
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(BOUND_MS - 50);
    expect(keptAlive.received().match(/HTTP\/1\.1 /g)).toHaveLength(1);
  });

  it('serves a slow request that keeps sending, well past the bound', async () => {
    const body = JSON.stringify({ object_ids: [1, 2, 3] });
    const slow = await connect(bounded.port);
    slow.socket.write(
      `POST /callback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    const startedAt = Date.now();
    for (const char of body) {
      await sleep(80);
      slow.socket.write(char);
    }
    await expectClosed(slow);
    expect(Date.now() - startedAt).toBeGreaterThan(3 * BOUND_MS);
    expect(slow.received()).toMatch(/^HTTP\/1\.1 200 /);
    expect(slow.received()).toContain('{"accepted":3}');
  });

  it('closes connections over the cap at once, while those within it are served', async () => {
    const within = [await connect(capped.port), await connect(capped.port), await connect(capped.port)];
    const over = await connect(capped.port);
    await expectClosed(over);
    expect(over.received()).toBe('');
    // The client is told nothing; the operator is.
    expect(cappedLogs.records.filter((r) => r.message === 'connections refused: too many open')).toEqual([
      expect.objectContaining({ level: 'warn', port: capped.port, maxConnections: 3, refused: 1 }),
    ]);
    // The connections within the cap still work.
    for (const connection of within) {
      connection.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await waitFor('the response', () => connection.received().includes('{"status":"ok"}'));
    }
    expect(within.every((c) => !c.socket.destroyed)).toBe(true);
    // Once one closes, there is room again.
    within[0]!.socket.destroy();
    await waitFor(
      'a new connection is served',
      async () => (await request(capped.port, 'GET', '/healthz').catch(() => undefined))?.status === 200,
    );
    // The ops port counts its own connections.
    expect((await request(capped.opsPort, 'GET', '/healthz')).status).toBe(200);
  });
});
