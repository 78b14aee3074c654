import {
  proxyInFrontOf,
  type FaultProxy,
  TEST_AMQP_URL,
  TEST_DATABASE_URL,
  waitFor,
} from '@conveyor/testkit';
import pg from 'pg';
import { startObjectsApi, type ObjectsApi } from '../../services/tester/src/objects-api.js';
import { consumerApp, createIsolatedEnv, postCallback, producerApp, type IsolatedEnv } from '../harness.js';

/**
 * The broker connection cut through a TCP fault proxy while callbacks keep coming: the producer
 * spills to the outbox (no 5xx), everything is processed once the connection returns, and the
 * consumer resumes by itself. With the database cut as well, the producer answers 503.
 */
describe('broker connection cut while callbacks keep coming', () => {
  let isolated: IsolatedEnv;
  let upstream: ObjectsApi;
  let amqpProxy: FaultProxy;
  let pgProxy: FaultProxy;
  let db: pg.Client;
  let producer: ReturnType<typeof producerApp>;
  let consumer: ReturnType<typeof consumerApp>;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('brokercut');
    upstream = await startObjectsApi({ port: 0, host: '127.0.0.1', minDelayMs: 5, maxDelayMs: 30 });
    const amqp = await proxyInFrontOf(`${TEST_AMQP_URL}?heartbeat=1`);
    const database = await proxyInFrontOf(TEST_DATABASE_URL);
    amqpProxy = amqp.proxy;
    pgProxy = database.proxy;
    const env = {
      ...isolated.env,
      AMQP_URL: amqp.url,
      OBJECTS_API_URL: `http://127.0.0.1:${upstream.port}`,
      OUTBOX_POLL_MS: '100',
    };
    producer = producerApp({ ...env, DATABASE_URL: database.url });
    consumer = consumerApp(env);
    await producer.start();
    await consumer.start();
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await consumer.stop();
    await producer.stop();
    await db.end();
    await amqpProxy.stop();
    await pgProxy.stop();
    await upstream.close();
    await isolated.dispose();
  });

  const storedCount = async () => {
    const { rows } = await db.query(`select count(*)::int as n from "${isolated.schema}".objects`);
    return rows[0].n as number;
  };

  it('answers every callback with 200 through the cut and processes every id afterwards', async () => {
    let nextId = 0;
    const statuses: number[] = [];
    const send = async () => {
      const ids = Array.from({ length: 20 }, () => (nextId += 2));
      statuses.push((await postCallback(producer.port, { object_ids: ids })).status);
    };

    for (let i = 0; i < 5; i++) await send();
    amqpProxy.cut();
    const cutUntil = Date.now() + 3_000;
    while (Date.now() < cutUntil) {
      await send();
      await new Promise((r) => setTimeout(r, 100));
    }
    const { rows: spilled } = await db.query(`select count(*)::int as n from "${isolated.schema}".outbox`);
    expect(spilled[0].n).toBeGreaterThan(0);
    amqpProxy.restore();
    for (let i = 0; i < 5; i++) await send();

    expect(statuses.every((s) => s === 200)).toBe(true);
    await waitFor(
      'every id processed after the broker returned',
      async () => (await storedCount()) === nextId / 2,
      { timeoutMs: 30_000 },
    );
    const { rows: left } = await db.query(`select count(*)::int as n from "${isolated.schema}".outbox`);
    expect(left[0].n).toBe(0);

    // And the consumer keeps consuming new work on its own.
    await send();
    await waitFor('new work consumed after the reconnect', async () => (await storedCount()) === nextId / 2);
  });

  it('answers 503 only when the broker and the database are both unreachable', async () => {
    amqpProxy.cut();
    pgProxy.cut();
    try {
      const response = await postCallback(producer.port, { object_ids: [1, 2, 3] });
      expect(response.status).toBe(503);
      expect(response.body).toEqual({
        error: { code: 'service_unavailable', message: expect.stringMatching(/retry later/) },
      });
    } finally {
      amqpProxy.restore();
      pgProxy.restore();
    }
    await waitFor(
      'producer recovers',
      async () => (await postCallback(producer.port, { object_ids: [4] })).status === 200,
      { timeoutMs: 15_000 },
    );
  });
});
