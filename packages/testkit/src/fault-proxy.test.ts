import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultProxy } from './fault-proxy.js';

const MB = 1024 * 1024;
/** Node reads at most 64 KiB per 'data' event: the precision promised for byte tripwires. */
const CHUNK_TOLERANCE = 64 * 1024;

interface TestServer {
  port: number;
  close(): Promise<void>;
}

/** A TCP server on an ephemeral loopback port; close() also destroys its open sockets. */
async function startServer(onConnection: (socket: net.Socket) => void): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
}

const startEchoServer = () => startServer((socket) => socket.pipe(socket));

/** Sends `payload` to every client, then closes its side. */
const startSourceServer = (payload: Buffer) => startServer((socket) => socket.end(payload));

interface Outcome {
  received: Buffer;
  errorCode: string | undefined;
}

interface Client {
  socket: net.Socket;
  /** Everything received so far. */
  received(): Buffer;
  /** Resolves once at least `bytes` have arrived. */
  waitForBytes(bytes: number): Promise<void>;
  /** Resolves when the socket has closed, with everything it received and the error it saw. */
  outcome: Promise<Outcome>;
}

function connectClient(port: number): Client {
  const socket = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  let receivedBytes = 0;
  let errorCode: string | undefined;
  const waiters: { bytes: number; resolve: () => void }[] = [];
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    receivedBytes += chunk.length;
    waiters.filter((w) => receivedBytes >= w.bytes).forEach((w) => w.resolve());
  });
  socket.on('error', (error: NodeJS.ErrnoException) => (errorCode = error.code));
  const outcome = new Promise<Outcome>((resolve) =>
    socket.on('close', () => resolve({ received: Buffer.concat(chunks), errorCode })),
  );
  return {
    socket,
    received: () => Buffer.concat(chunks),
    waitForBytes: (bytes) =>
      receivedBytes >= bytes ? Promise.resolve() : new Promise((resolve) => waiters.push({ bytes, resolve })),
    outcome,
  };
}

/** Sends `payload`, half-closes, and returns what came back before the connection closed. */
function exchange(port: number, payload: Buffer | string): Promise<Outcome> {
  const client = connectClient(port);
  client.socket.end(payload);
  return client.outcome;
}

async function expectRefused(port: number): Promise<void> {
  const { received, errorCode } = await exchange(port, 'hello');
  expect(received.length).toBe(0);
  expect(errorCode).toMatch(/ECONNRESET|EPIPE/);
}

describe('FaultProxy', () => {
  let proxy: FaultProxy;
  let echo: TestServer;

  beforeEach(async () => {
    echo = await startEchoServer();
    proxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: echo.port });
  });

  afterEach(async () => {
    await proxy.stop();
    await echo.close();
  });

  it('listens on an ephemeral loopback port', () => {
    expect(proxy.port).toBeGreaterThan(0);
    expect(proxy.url).toBe(`127.0.0.1:${proxy.port}`);
  });

  it('forwards 10 MB each way byte-exact, including the half-close', async () => {
    const payload = randomBytes(10 * MB);
    const { received, errorCode } = await exchange(proxy.port, payload);
    expect(errorCode).toBeUndefined();
    expect(received.equals(payload)).toBe(true);
    await waitUntil(() => proxy.activeConnections === 0);
  });

  it('cut() resets open connections and refuses new ones until restore()', async () => {
    const client = connectClient(proxy.port);
    client.socket.write('ping');
    await client.waitForBytes(4);
    expect(proxy.activeConnections).toBe(1);

    proxy.cut();
    const { errorCode } = await client.outcome;
    expect(errorCode).toBe('ECONNRESET');
    await waitUntil(() => proxy.activeConnections === 0);
    await expectRefused(proxy.port);
    await expectRefused(proxy.port);

    proxy.restore();
    expect((await exchange(proxy.port, 'back')).received.toString()).toBe('back');
  });

  it('resetAll() resets open connections but keeps accepting', async () => {
    const client = connectClient(proxy.port);
    client.socket.write('ping');
    await client.waitForBytes(4);

    proxy.resetAll();
    expect((await client.outcome).errorCode).toBe('ECONNRESET');
    expect((await exchange(proxy.port, 'again')).received.toString()).toBe('again');
  });

  it('stall() holds bytes in both directions until unstall()', async () => {
    const client = connectClient(proxy.port);
    client.socket.write('a');
    await client.waitForBytes(1);

    proxy.stall();
    client.socket.write('b');
    await sleep(200);
    expect(client.received().toString()).toBe('a');
    expect(proxy.activeConnections).toBe(1);

    proxy.unstall();
    await client.waitForBytes(2);
    expect(client.received().toString()).toBe('ab');
    client.socket.end();
    expect((await client.outcome).errorCode).toBeUndefined();
  });

  it('failNextConnections(k) resets exactly the next k connections', async () => {
    proxy.failNextConnections(2);
    await expectRefused(proxy.port);
    await expectRefused(proxy.port);
    expect((await exchange(proxy.port, 'third')).received.toString()).toBe('third');
  });

  it('setLatency() delays every chunk and keeps their order', async () => {
    proxy.setLatency(100);
    const client = connectClient(proxy.port);
    const startedAt = Date.now();
    const parts = Array.from({ length: 20 }, (_, i) => `part-${i};`);
    for (const part of parts) {
      client.socket.write(part);
      await sleep(2);
    }
    const expected = parts.join('');
    await client.waitForBytes(expected.length);
    // One delay on the way to the echo server and one on the way back.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(195);
    expect(client.received().toString()).toBe(expected);
    client.socket.end();
    await client.outcome;
  });

  it('stays byte-exact for large transfers under latency', async () => {
    proxy.setLatency(20);
    const payload = randomBytes(10 * MB);
    const { received, errorCode } = await exchange(proxy.port, payload);
    expect(errorCode).toBeUndefined();
    expect(received.equals(payload)).toBe(true);
  });

  it('resets the client when the target cannot be reached', async () => {
    const unreachable = await startServer(() => {});
    await unreachable.close();
    const deadEnd = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: unreachable.port });
    try {
      const { received, errorCode } = await exchange(deadEnd.port, 'anyone?');
      expect(received.length).toBe(0);
      expect(errorCode).toMatch(/ECONNRESET|EPIPE/);
    } finally {
      await deadEnd.stop();
    }
  });

  it('stop() closes every connection, is idempotent and frees the port', async () => {
    const client = connectClient(proxy.port);
    client.socket.write('ping');
    await client.waitForBytes(4);

    await Promise.all([proxy.stop(), proxy.stop()]);
    await client.outcome;
    expect(proxy.activeConnections).toBe(0);
    const { errorCode } = await exchange(proxy.port, 'late');
    expect(errorCode).toBe('ECONNREFUSED');
  });
});

describe('FaultProxy byte tripwires', () => {
  const payload = randomBytes(10 * MB);
  let source: TestServer;
  let proxy: FaultProxy;

  beforeEach(async () => {
    source = await startSourceServer(payload);
    proxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: source.port });
  });

  afterEach(async () => {
    await proxy.stop();
    await source.close();
  });

  it('resetAfterBytes() cuts a download after n bytes, once', async () => {
    // Paced like a network download, so the client keeps up and the kernel holds no unsent bytes
    // at the reset (those would be dropped, as in a real cut).
    const pacedSource = await startServer((socket) => void sendPaced(socket, payload.subarray(0, 2 * MB)));
    const downloadProxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: pacedSource.port });
    try {
      downloadProxy.resetAfterBytes(1 * MB);
      const cutShort = await connectClient(downloadProxy.port).outcome;
      expect(cutShort.errorCode).toBe('ECONNRESET');
      expect(cutShort.received.length).toBeGreaterThanOrEqual(1 * MB - CHUNK_TOLERANCE);
      expect(cutShort.received.length).toBeLessThanOrEqual(1 * MB);
      expect(cutShort.received.equals(payload.subarray(0, cutShort.received.length))).toBe(true);

      const complete = await connectClient(downloadProxy.port).outcome;
      expect(complete.errorCode).toBeUndefined();
      expect(complete.received.equals(payload.subarray(0, 2 * MB))).toBe(true);
    } finally {
      await downloadProxy.stop();
      await pacedSource.close();
    }
  });

  it('resetAfterBytes() never lets more than n bytes through to a slow reader', async () => {
    proxy.resetAfterBytes(1 * MB);
    const cutShort = await connectClient(proxy.port).outcome;
    expect(cutShort.received.length).toBeLessThanOrEqual(1 * MB);
    expect(cutShort.received.equals(payload.subarray(0, cutShort.received.length))).toBe(true);
  });

  it('resetAfterBytes(n, "upstream") counts bytes sent by the client', async () => {
    const uploadReceived = deferred<number>();
    const sink = await startServer((socket) => {
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
      socket.on('close', () => uploadReceived.resolve(bytes));
    });
    const uploadProxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: sink.port });
    try {
      uploadProxy.resetAfterBytes(2 * MB, 'upstream');
      const client = connectClient(uploadProxy.port);
      void sendPaced(client.socket, randomBytes(4 * MB));
      expect((await client.outcome).errorCode).toMatch(/ECONNRESET|EPIPE/);
      const bytes = await uploadReceived.promise;
      expect(bytes).toBeGreaterThanOrEqual(2 * MB - CHUNK_TOLERANCE);
      expect(bytes).toBeLessThanOrEqual(2 * MB);
    } finally {
      await uploadProxy.stop();
      await sink.close();
    }
  });

  it('stallAfterBytes() holds a download after n bytes until unstall()', async () => {
    proxy.stallAfterBytes(1 * MB);
    const client = connectClient(proxy.port);
    await client.waitForBytes(1 * MB);
    await sleep(200);
    expect(client.received().length).toBe(1 * MB);

    proxy.unstall();
    const { received, errorCode } = await client.outcome;
    expect(errorCode).toBeUndefined();
    expect(received.equals(payload)).toBe(true);
  });
});

/** Writes `data` in 64 KiB slices a few milliseconds apart, then closes. */
async function sendPaced(socket: net.Socket, data: Buffer): Promise<void> {
  const sliceBytes = 64 * 1024;
  for (let offset = 0; offset < data.length && !socket.destroyed; offset += sliceBytes) {
    socket.write(data.subarray(offset, offset + sliceBytes));
    await sleep(2);
  }
  socket.end();
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
