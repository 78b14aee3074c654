import { RabbitCluster, waitFor } from '@conveyor/testkit';
import { consumerApp, createIsolatedEnv, producerApp, request, type IsolatedEnv } from '../harness.js';

type Queue = {
  kind: string | null;
  messages: number;
  ready: number | null;
  unacked: number | null;
  consumers: number;
  rates: { publish: number } | null;
};

/** GET /v1/queues from RabbitMQ's management API, on a node of this test's own with the plugin on. */
describe('queues from the management API', () => {
  let cluster: RabbitCluster;
  let isolated: IsolatedEnv;
  let producer: ReturnType<typeof producerApp>;
  let consumer: ReturnType<typeof consumerApp>;
  let port: number;

  beforeAll(async () => {
    cluster = await RabbitCluster.start(1, 'opmgmt', { management: true });
    const node = cluster.nodes[0]!;
    isolated = await createIsolatedEnv('opmgmt');
    const env = {
      ...isolated.env,
      AMQP_URL: node.url,
      RABBITMQ_MANAGEMENT_URL: node.managementUrl!,
    };
    producer = producerApp(env);
    await producer.start();
    port = producer.port;
    consumer = consumerApp({ ...env, BUILT_IN_KINDS: 'factorize' });
  }, 120_000);

  afterAll(async () => {
    await consumer?.stop();
    await producer?.stop();
    await isolated?.dispose();
    await cluster?.dispose();
  });

  const queueOf = async (kind: string): Promise<Queue & { source: string }> => {
    const { body } = await request(port, 'GET', '/v1/queues');
    return { ...body.queues.find((queue: Queue) => queue.kind === kind), source: body.source };
  };

  it('shows ready, unacknowledged, consumers and rates', async () => {
    for (const number of ['91', '1234', '97'])
      await request(port, 'POST', '/v1/jobs', { kind: 'factorize', input: { number } });
    const waiting = await waitFor(
      'three ready messages in the management figures',
      async () => {
        const queue = await queueOf('factorize');
        return queue.ready === 3 ? queue : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(waiting).toMatchObject({ source: 'management', messages: 3, ready: 3, unacked: 0, consumers: 0 });
    expect(waiting.rates).toEqual({
      publish: expect.any(Number),
      deliver: expect.any(Number),
      ack: expect.any(Number),
    });
    await consumer.start();
    const drained = await waitFor(
      'drained by the resumed consumer',
      async () => {
        const queue = await queueOf('factorize');
        return queue.messages === 0 && queue.consumers === 1 ? queue : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(drained.unacked).toBe(0);
    const object = await queueOf('object-check');
    expect(object).toMatchObject({ messages: 0, ready: 0, consumers: 0 });
  });
});
