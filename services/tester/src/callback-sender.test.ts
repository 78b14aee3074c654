import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCallbackSender, type CallbackSender, type CallbackSenderOptions } from './callback-sender.js';

interface Receiver {
  url: string;
  /** Parsed JSON bodies, in arrival order. */
  bodies: unknown[];
  close(): Promise<void>;
}

/** A stand-in for the producer's callback endpoint; `respond` decides what each POST gets. */
async function startReceiver(respond: (response: http.ServerResponse) => void): Promise<Receiver> {
  const bodies: unknown[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      bodies.push(JSON.parse(Buffer.concat(chunks).toString()));
      respond(response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const accept = (response: http.ServerResponse) => response.writeHead(202).end();

describe('startCallbackSender', () => {
  let receiver: Receiver;
  let sender: CallbackSender | undefined;
  const logged: { message: string; meta: object }[] = [];

  function startSender(overrides: Partial<CallbackSenderOptions> = {}): CallbackSender {
    sender = startCallbackSender({
      targetUrl: receiver.url,
      intervalMs: 20,
      maxIds: 5,
      idRange: 10,
      timeoutMs: 500,
      log: (message, meta) => logged.push({ message, meta }),
      ...overrides,
    });
    return sender;
  }

  afterEach(async () => {
    sender?.stop();
    sender = undefined;
    logged.length = 0;
    // Let a callback still in flight finish before its receiver goes away.
    await sleep(50);
    await receiver.close();
  });

  it('posts batches of 1..maxIds ids drawn from [0, idRange)', async () => {
    receiver = await startReceiver(accept);
    const running = startSender();
    await waitUntil(() => receiver.bodies.length >= 10);
    running.stop();
    await waitUntil(() => running.stats().ok === running.stats().sent);

    for (const body of receiver.bodies) {
      expect(body).toEqual({ object_ids: expect.any(Array) });
      const ids = (body as { object_ids: unknown[] }).object_ids;
      expect(ids.length).toBeGreaterThanOrEqual(1);
      expect(ids.length).toBeLessThanOrEqual(5);
      for (const id of ids) {
        expect(Number.isInteger(id)).toBe(true);
        expect(id).toBeGreaterThanOrEqual(0);
        expect(id).toBeLessThan(10);
      }
    }
    expect(running.stats()).toEqual({ sent: receiver.bodies.length, ok: receiver.bodies.length, missed: 0 });
    expect(logged).toEqual([]);
  });

  it('maps the extremes of random() onto the edges of both ranges', async () => {
    receiver = await startReceiver(accept);
    const highest = startSender({ random: () => 0.999_999 });
    await waitUntil(() => receiver.bodies.length >= 1);
    highest.stop();
    await waitUntil(() => highest.stats().ok === highest.stats().sent);
    const highestBatches = receiver.bodies.length;
    startSender({ random: () => 0 });
    await waitUntil(() => receiver.bodies.length > highestBatches);

    expect(receiver.bodies.slice(0, highestBatches)).toEqual(
      Array(highestBatches).fill({ object_ids: [9, 9, 9, 9, 9] }),
    );
    expect(receiver.bodies.slice(highestBatches)[0]).toEqual({ object_ids: [0] });
  });

  it('counts a receiver slower than timeoutMs as a missed callback, without retrying', async () => {
    // Never answers: the sender's deadline is the only way out. The deadline leaves a loaded
    // machine time to deliver the body (at 50 ms the full suite once aborted before it arrived),
    // and the next send (1 s after the first, which leaves at 1 s) comes after the stop.
    receiver = await startReceiver(() => {});
    const running = startSender({ intervalMs: 1_000, timeoutMs: 300 });
    await waitUntil(() => running.stats().missed >= 1);
    running.stop();
    await waitUntil(() => receiver.bodies.length >= 1);

    expect(running.stats()).toEqual({ sent: 1, ok: 0, missed: 1 });
    expect(receiver.bodies).toHaveLength(1);
    expect(logged).toEqual([
      { message: 'callback timed out', meta: expect.objectContaining({ timeoutMs: 300 }) },
    ]);
  });

  it('counts a non-2xx answer as a missed callback', async () => {
    receiver = await startReceiver((response) => response.writeHead(503).end('busy'));
    const running = startSender({ intervalMs: 200 });
    await waitUntil(() => running.stats().missed >= 1);
    running.stop();

    expect(running.stats()).toEqual({ sent: 1, ok: 0, missed: 1 });
    expect(logged).toEqual([
      { message: 'callback rejected', meta: expect.objectContaining({ status: 503 }) },
    ]);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}
