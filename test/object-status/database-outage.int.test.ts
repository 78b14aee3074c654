import { proxyInFrontOf, type FaultProxy, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import { startObjectsApi, type ObjectsApi } from '../../services/tester/src/objects-api.js';
import { consumerApp, createIsolatedEnv, postCallback, producerApp, type IsolatedEnv } from '../harness.js';

async function ackedCount(opsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('conveyor_messages_acked_total{'));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** PostgreSQL unreachable from the consumer (through a fault proxy): it stops acking, loses nothing, catches up. */
describe('database unreachable from the consumer', () => {
  let isolated: IsolatedEnv;
  let upstream: ObjectsApi;
  let pgProxy: FaultProxy;
  let db: pg.Client;
  let producer: ReturnType<typeof producerApp>;
  let consumer: ReturnType<typeof consumerApp>;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('dbout');
    upstream = await startObjectsApi({ port: 0, host: '127.0.0.1', minDelayMs: 5, maxDelayMs: 30 });
    const database = await proxyInFrontOf(TEST_DATABASE_URL);
    pgProxy = database.proxy;
    producer = producerApp(isolated.env);
    consumer = consumerApp({
      ...isolated.env,
      DATABASE_URL: database.url,
      OBJECTS_API_URL: `http://127.0.0.1:${upstream.port}`,
    });
    await producer.start();
    await consumer.start();
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await consumer.stop();
    await producer.stop();
    await db.end();
    await pgProxy.stop();
    await upstream.close();
    await isolated.dispose();
  });

  it('holds the messages unacknowledged during the outage and stores them all afterwards', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => i * 2);
    pgProxy.cut();
    const ackedBefore = await ackedCount(consumer.opsPort);
    expect((await postCallback(producer.port, { object_ids: ids })).status).toBe(200);

    // The checks happen, but no write can commit, so nothing is acknowledged.
    await waitFor('upstream checked every id', () => upstream.stats().requests >= ids.length);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await ackedCount(consumer.opsPort)).toBe(ackedBefore);
    const ready = await fetch(`http://127.0.0.1:${consumer.opsPort}/readyz`);
    expect(ready.status).toBe(503);

    pgProxy.restore();
    await waitFor(
      'all rows written after the database returned',
      async () => {
        const { rows } = await db.query(`select count(*)::int as n from "${isolated.schema}".objects`);
        return rows[0].n === ids.length;
      },
      { timeoutMs: 20_000 },
    );
    await waitFor(
      'every message acknowledged',
      async () => (await ackedCount(consumer.opsPort)) === ackedBefore + ids.length,
    );
  });
});
