import amqp from 'amqplib';
import { topologyNames } from '@conveyor/contracts';
import { createLogger, silentLogger } from '@conveyor/platform';
import {
  BrokerProbe,
  createIsolatedEnv,
  FaultProxy,
  TEST_AMQP_URL,
  waitFor,
  type IsolatedEnv,
} from '@conveyor/testkit';
import { Broker, type Delivery } from './broker.js';
import { BrokerUnavailableError, UnroutableMessageError } from './errors.js';
import { framedChannel } from './framed-channel.js';
import { workTopology } from './work-topology.js';

/** The broker module against the real RabbitMQ, with a TCP fault proxy in between to cut it. */
describe('Broker recovery', () => {
  let isolated: IsolatedEnv;
  let proxy: FaultProxy;
  let broker: Broker;
  const received: string[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('broker');
    const target = new URL(TEST_AMQP_URL);
    proxy = await FaultProxy.start({ targetHost: target.hostname, targetPort: Number(target.port || 5672) });
    const names = topologyNames(isolated.prefix);
    broker = new Broker({
      url: `amqp://guest:guest@${proxy.url}`,
      connectionName: 'broker-test',
      log: process.env.TEST_LOG_LEVEL
        ? createLogger({ service: 'test', level: process.env.TEST_LOG_LEVEL, format: 'pretty' })
        : silentLogger(),
      topology: workTopology(names, { kinds: ['object.check'], retryDelaysMs: [100], deliveryLimit: 5 }),
      heartbeatSeconds: 1,
      // Several lanes, so every case below also covers a batch spread over channels.
      publishChannels: 3,
      reconnectBaseMs: 50,
      reconnectMaxMs: 300,
    });
    broker.consume(
      names.workQueue('object.check'),
      async (delivery: Delivery) => {
        received.push(delivery.body.toString());
        delivery.ack();
      },
      { prefetch: 10 },
    );
    await broker.start();
  });

  afterAll(async () => {
    await broker.close();
    await proxy.stop();
    await isolated.dispose();
  });

  const names = () => topologyNames(isolated.prefix);
  const publish = (body: string, options: { timeoutMs?: number } = {}) =>
    broker.publish(names().workExchange, 'object.check.v1', Buffer.from(body), {
      messageId: body,
      ...options,
    });

  it('confirms a routed publish and delivers it', async () => {
    await publish('first');
    await waitFor('first delivered', () => received.includes('first'));
  });

  it('rejects an unroutable mandatory publish instead of confirming it silently', async () => {
    await expect(
      broker.publish(names().workExchange, 'no.such.key', Buffer.from('x'), { messageId: 'x' }),
    ).rejects.toBeInstanceOf(UnroutableMessageError);
  });

  it('puts the message id and persistence in the properties, framed or with headers through amqplib, in order on one channel', async () => {
    const connection = await amqp.connect(TEST_AMQP_URL);
    try {
      const channel = await connection.createChannel();
      const queue = `${isolated.prefix}.frames-probe`;
      await channel.assertQueue(queue, { durable: false, autoDelete: false });
      await channel.bindQueue(queue, names().workExchange, 'frames.probe');
      const send = (messageId: string, headers?: Record<string, unknown>) =>
        broker.publish(names().workExchange, 'frames.probe', Buffer.from(`body of ${messageId}`), {
          messageId,
          headers,
        });
      await Promise.all([
        send('plain-1'),
        send('with-headers', { 'x-conveyor-tier': 3 }),
        send('plain-2'),
        send('é-ü'),
      ]);

      const got = [];
      for (let i = 0; i < 4; i++) {
        const message = await channel.get(queue, { noAck: true });
        if (!message) throw new Error(`message ${i} missing`);
        got.push(message);
      }
      expect(got.map((m) => m.properties.messageId)).toEqual(['plain-1', 'with-headers', 'plain-2', 'é-ü']);
      expect(got.map((m) => m.content.toString())).toEqual([
        'body of plain-1',
        'body of with-headers',
        'body of plain-2',
        'body of é-ü',
      ]);
      for (const { properties } of got) {
        // Nothing but what the broker uses: the rest of what describes a message is in its envelope.
        expect(properties).toMatchObject({
          deliveryMode: 2,
          contentType: undefined,
          correlationId: undefined,
          type: undefined,
          timestamp: undefined,
        });
      }
      expect(got[1]!.properties.headers).toEqual({ 'x-conveyor-tier': 3 });
      expect(got[0]!.properties.headers).toEqual({});
      await channel.deleteQueue(queue);
    } finally {
      await connection.close();
    }
  });

  it('finds the internals it frames publishes through on this amqplib, and sees a closed channel as unusable', async () => {
    const connection = await amqp.connect(TEST_AMQP_URL);
    try {
      const channel = await connection.createConfirmChannel();
      const framing = framedChannel(channel);
      expect(framing).toBeDefined();
      expect(framing!.usable()).toBe(true);
      expect(framing!.frameMax).toBeGreaterThanOrEqual(4096);
      await channel.close();
      expect(framing!.usable()).toBe(false);
    } finally {
      await connection.close();
    }
  });

  describe('publishMany', () => {
    const message = (body: string, routingKey = 'object.check.v1') => ({
      exchange: names().workExchange,
      routingKey,
      body: Buffer.from(body),
      messageId: body,
    });

    it('confirms a batch and reports an outcome per message, in order', async () => {
      const bodies = Array.from({ length: 200 }, (_, i) => `many-${i}`);
      expect(await broker.publishMany(bodies.map((b) => message(b)))).toEqual(bodies.map(() => undefined));
      await waitFor('the batch delivered', () => bodies.every((b) => received.includes(b)));
    });

    it('fails only the unroutable message of a batch', async () => {
      const outcomes = await broker.publishMany([
        message('mixed-0'),
        message('mixed-1', 'no.such.key'),
        message('mixed-2'),
      ]);
      expect(outcomes[0]).toBeUndefined();
      expect(outcomes[1]).toBeInstanceOf(UnroutableMessageError);
      expect(outcomes[2]).toBeUndefined();
    });

    it('gives up on the whole batch at its deadline when the broker does not confirm', async () => {
      proxy.stall();
      try {
        const started = Date.now();
        const outcomes = await broker.publishMany([message('late-0'), message('late-1')], { timeoutMs: 300 });
        expect(Date.now() - started).toBeGreaterThanOrEqual(250);
        for (const outcome of outcomes) expect(outcome).toBeInstanceOf(BrokerUnavailableError);
      } finally {
        proxy.unstall();
      }
    });

    it('re-sends a batch spread over its channels when the connection breaks under it', async () => {
      proxy.stall();
      const bodies = Array.from({ length: 150 }, (_, i) => `spread-${i}`);
      const outcomes = broker.publishMany(bodies.map((b) => message(b)));
      await new Promise((r) => setTimeout(r, 200));
      proxy.resetAll();
      proxy.unstall();
      expect(await outcomes).toEqual(bodies.map(() => undefined));
      await waitFor('every message of the batch delivered', () => bodies.every((b) => received.includes(b)));
    });

    it('refuses at once with failFast while disconnected', async () => {
      proxy.cut();
      try {
        await waitFor('broker notices the cut', () => !broker.connected);
        const outcomes = await broker.publishMany([message('down-0'), message('down-1')], { failFast: true });
        for (const outcome of outcomes) expect(outcome).toBeInstanceOf(BrokerUnavailableError);
      } finally {
        proxy.restore();
      }
      await waitFor('reconnected', () => broker.connected, { timeoutMs: 10_000 });
    });
  });

  it('keeps publishing after the server closes the channel (publish to a missing exchange)', async () => {
    await expect(
      broker.publish('no-such-exchange', 'k', Buffer.from('y'), { messageId: 'y', timeoutMs: 1_000 }),
    ).rejects.toThrow();
    await publish('after-channel-error', { timeoutMs: 5_000 });
    await waitFor('delivered after channel error', () => received.includes('after-channel-error'));
  });

  it('reconnects after the connection is cut and the consumer resumes consuming by itself', async () => {
    proxy.cut();
    await waitFor('broker notices the cut', () => !broker.connected);
    // Published while down: waits (unconfirmed) and is sent once the connection is back.
    const pending = publish('while-down');
    await new Promise((r) => setTimeout(r, 500));
    proxy.restore();
    await pending;
    await publish('after-reconnect');
    await waitFor(
      'both delivered after reconnect',
      () => received.includes('while-down') && received.includes('after-reconnect'),
    );
  });

  it('re-sends publishes that were in flight when the connection broke', async () => {
    proxy.stall();
    const bodies = Array.from({ length: 50 }, (_, i) => `stalled-${i}`);
    const confirms = Promise.all(bodies.map((b) => publish(b)));
    await new Promise((r) => setTimeout(r, 200));
    proxy.resetAll();
    proxy.unstall();
    await confirms;
    await waitFor('every stalled publish delivered', () => bodies.every((b) => received.includes(b)));
  });

  it('survives repeated cuts and still consumes', async () => {
    for (let i = 0; i < 3; i++) {
      proxy.resetAll();
      await waitFor('reconnected', () => broker.connected, { timeoutMs: 10_000 });
    }
    await publish('after-three-cuts');
    await waitFor('delivered after repeated cuts', () => received.includes('after-three-cuts'));
  });

  it('re-declares its queue and consumes again when the broker cancels the consumer (queue deleted)', async () => {
    const probe = await amqp.connect(TEST_AMQP_URL);
    const channel = await probe.createChannel();
    await channel.deleteQueue(names().workQueue('object.check'));
    await probe.close();
    const inspector = await BrokerProbe.open();
    try {
      await waitFor(
        'queue re-declared with a consumer',
        async () => (await inspector.queue(names().workQueue('object.check'))).consumers === 1,
      );
    } finally {
      await inspector.close();
    }
    await publish('after-cancel');
    await waitFor('delivered after the consumer was cancelled', () => received.includes('after-cancel'));
  });
});

/** AMQP_URL with several nodes, and queues declared before their initial group size was set. */
describe('Broker nodes and queue replicas', () => {
  let isolated: IsolatedEnv;
  const brokers: Broker[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('brokernodes');
  });

  afterAll(async () => {
    for (const broker of brokers) await broker.close();
    await isolated.dispose();
  });

  const brokerOn = (url: string, initialGroupSize?: number) => {
    const broker = new Broker({
      url,
      connectionName: 'broker-nodes-test',
      log: silentLogger(),
      topology: workTopology(topologyNames(isolated.prefix), {
        kinds: ['object.check'],
        retryDelaysMs: [100],
        deliveryLimit: 5,
        initialGroupSize,
      }),
      reconnectBaseMs: 50,
      reconnectMaxMs: 200,
    });
    brokers.push(broker);
    return broker;
  };

  it('connects to the first node that answers in a comma-separated list', async () => {
    // Nothing listens on port 1: that node is skipped, the next one answers.
    const broker = brokerOn(`amqp://guest:guest@127.0.0.1:1,${TEST_AMQP_URL}`);
    await broker.start();
    expect(broker.connected).toBe(true);
  });

  it('declares an existing quorum queue as it stands when its initial group size differs', async () => {
    await brokerOn(TEST_AMQP_URL).start(); // declares every queue without a group size
    const replicated = brokerOn(TEST_AMQP_URL, 3);
    await replicated.start();
    await replicated.publish(
      topologyNames(isolated.prefix).workExchange,
      topologyNames(isolated.prefix).routingKey('object.check'),
      Buffer.from('{}'),
      { messageId: 'm1', timeoutMs: 5_000 },
    );
  });
});

/** A stop right after a start: consumers whose channels are still opening. */
describe('Broker stopped while its consumers open', () => {
  let isolated: IsolatedEnv;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('brokerstop');
  });

  afterAll(async () => {
    await isolated.dispose();
  });

  it('leaves no unhandled rejection when a consumer is cancelled, or the broker closed, mid-open', async () => {
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown) => rejections.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      for (let round = 0; round < 5; round++) {
        const names = topologyNames(isolated.prefix);
        const broker = new Broker({
          url: TEST_AMQP_URL,
          connectionName: 'broker-stop-test',
          log: silentLogger(),
          topology: workTopology(names, { kinds: ['object.check'], retryDelaysMs: [100], deliveryLimit: 5 }),
        });
        await broker.start();
        const handles = Array.from({ length: 4 }, () =>
          broker.consume(names.workQueue('object.check'), async (delivery) => delivery.ack(), {
            prefetch: 1,
          }),
        );
        // No await between consume and the stop: the channels are still being opened.
        await handles[0]!.cancel();
        await broker.close();
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });
});
