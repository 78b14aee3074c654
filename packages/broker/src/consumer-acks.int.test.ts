import { topologyNames } from '@conveyor/contracts';
import { silentLogger } from '@conveyor/platform';
import { createIsolatedEnv, FaultProxy, TEST_AMQP_URL, waitFor, type IsolatedEnv } from '@conveyor/testkit';
import { Broker, type ConsumeOptions, type Delivery } from './broker.js';
import { workTopology } from './work-topology.js';

/**
 * Held acks and the concurrency cap against the real RabbitMQ, through a fault proxy: what was
 * acknowledged is never redelivered, what was held when the connection broke comes back.
 */
describe('Broker consumer: concurrency and held acks', () => {
  let isolated: IsolatedEnv;
  let proxy: FaultProxy;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('consumer-acks');
    const target = new URL(TEST_AMQP_URL);
    proxy = await FaultProxy.start({ targetHost: target.hostname, targetPort: Number(target.port || 5672) });
  });

  afterAll(async () => {
    await proxy.stop();
    await isolated.dispose();
  });

  /** A broker consuming the work queue; each delivery runs until the test releases it by body. */
  async function harness(options: ConsumeOptions) {
    const names = topologyNames(isolated.prefix);
    const broker = new Broker({
      url: `amqp://guest:guest@${proxy.url}`,
      connectionName: 'consumer-acks-test',
      log: silentLogger(),
      topology: workTopology(names, { kinds: ['object.check'], retryDelaysMs: [100], deliveryLimit: 10 }),
      heartbeatSeconds: 1,
      reconnectBaseMs: 50,
      reconnectMaxMs: 300,
    });
    const deliveries: { body: string; redelivered: boolean }[] = [];
    /** Runs waiting to be released, per body, oldest first (a redelivered message runs twice). */
    const gates = new Map<string, (() => void)[]>();
    let running = 0;
    let mostRunning = 0;
    const consumer = broker.consume(
      names.workQueue('object.check'),
      async (delivery: Delivery) => {
        const body = delivery.body.toString();
        deliveries.push({ body, redelivered: delivery.redelivered });
        running += 1;
        mostRunning = Math.max(mostRunning, running);
        await new Promise<void>((resolve) => gates.set(body, [...(gates.get(body) ?? []), resolve]));
        running -= 1;
        delivery.ack();
      },
      options,
    );
    await broker.start();
    const publish = (body: string) =>
      broker.publish(names.workExchange, 'object.check.v1', Buffer.from(body), { messageId: body });
    const release = async (body: string) => {
      await waitFor(`${body} running`, () => (gates.get(body)?.length ?? 0) > 0);
      gates.get(body)!.shift()!();
    };
    const timesDelivered = (body: string) => deliveries.filter((d) => d.body === body).length;
    return {
      broker,
      consumer,
      publish,
      release,
      deliveries,
      timesDelivered,
      mostRunning: () => mostRunning,
      running: () => running,
    };
  }

  it('runs at most `concurrency` handlers; the other deliveries wait and run in turn', async () => {
    const h = await harness({ prefetch: 10, concurrency: 2, ackHoldMs: 200 });
    try {
      const bodies = ['c0', 'c1', 'c2', 'c3', 'c4'];
      for (const body of bodies) await h.publish(body);
      await waitFor('two running', () => h.running() === 2);
      await new Promise((r) => setTimeout(r, 200));
      expect(h.running()).toBe(2);
      for (const body of bodies) await h.release(body);
      await waitFor('all handled', () => bodies.every((b) => h.timesDelivered(b) === 1));
      expect(h.mostRunning()).toBe(2);
    } finally {
      await h.consumer.cancel();
      await h.broker.close();
    }
  });

  it('acks a delivery held behind a running one after ackHoldMs, then the rest in one go: none comes back after a cut', async () => {
    const h = await harness({ prefetch: 10, ackHoldMs: 300 });
    try {
      for (const body of ['a', 'b', 'c']) await h.publish(body);
      await waitFor('three running', () => h.running() === 3);
      await h.release('b');
      await h.release('c');
      // b and c wait behind a, then go alone once overdue; a then goes on its own.
      await new Promise((r) => setTimeout(r, 600));
      await h.release('a');
      await new Promise((r) => setTimeout(r, 200));
      proxy.resetAll();
      await waitFor('reconnected', () => h.broker.connected, { timeoutMs: 10_000 });
      await new Promise((r) => setTimeout(r, 500));
      expect(['a', 'b', 'c'].map(h.timesDelivered)).toEqual([1, 1, 1]);
    } finally {
      await h.consumer.cancel();
      await h.broker.close();
    }
  });

  it('a held ack lost with the connection means the message comes back (at least once, never lost)', async () => {
    const h = await harness({ prefetch: 10, ackHoldMs: 60_000 });
    try {
      await h.publish('d');
      await h.publish('e');
      await waitFor('both running', () => h.running() === 2);
      await h.release('e'); // held: d still runs
      await new Promise((r) => setTimeout(r, 100));
      proxy.resetAll();
      await waitFor(
        'd and e delivered again',
        () => h.timesDelivered('d') === 2 && h.timesDelivered('e') === 2,
        { timeoutMs: 10_000 },
      );
      expect(
        h.deliveries
          .filter((d) => d.redelivered)
          .map((d) => d.body)
          .sort(),
      ).toEqual(['d', 'e']);
      await h.release('d'); // the first run, whose ack is dropped with its channel
      await h.release('d');
      await h.release('e');
    } finally {
      await h.consumer.cancel();
      await h.broker.close();
    }
  });

  it('sends held acks before a graceful cancel closes the channel', async () => {
    const first = await harness({ prefetch: 10, ackHoldMs: 60_000 });
    await first.publish('f1');
    await first.publish('f2');
    await waitFor('both running', () => first.running() === 2);
    await first.release('f2'); // held behind f1
    const cancelled = first.consumer.cancel(); // waits for f1
    await first.release('f1'); // the run f1..f2 is finished just as the channel is about to close
    await cancelled;
    await first.broker.close();
    const second = await harness({ prefetch: 10, ackHoldMs: 0 });
    try {
      await second.publish('g');
      await second.release('g');
      await new Promise((r) => setTimeout(r, 300));
      expect([second.timesDelivered('f1'), second.timesDelivered('f2')]).toEqual([0, 0]);
    } finally {
      await second.consumer.cancel();
      await second.broker.close();
    }
  });
});
