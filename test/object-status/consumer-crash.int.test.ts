import { topologyNames } from '@conveyor/contracts';
import { BrokerProbe, ServiceProcess, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import { startObjectsApi, type ObjectsApi } from '../../services/tester/src/objects-api.js';
import { createIsolatedEnv, postCallback, producerApp, type IsolatedEnv } from '../harness.js';

/** kill -9 a consumer process with checks in flight against a slow upstream; a new one finishes the work. */
describe('consumer killed with checks in flight', () => {
  let isolated: IsolatedEnv;
  let upstream: ObjectsApi;
  let db: pg.Client;
  let probe: BrokerProbe;
  let producer: ReturnType<typeof producerApp>;
  const consumers: ServiceProcess[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('crash');
    upstream = await startObjectsApi({ port: 0, host: '127.0.0.1', minDelayMs: 800, maxDelayMs: 2_000 });
    producer = producerApp(isolated.env);
    await producer.start();
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    probe = await BrokerProbe.open();
  });

  afterAll(async () => {
    for (const consumer of consumers) await consumer.kill9();
    await producer.stop();
    await probe.close();
    await db.end();
    await upstream.close();
    await isolated.dispose();
  });

  function startConsumer(): ServiceProcess {
    const consumer = ServiceProcess.start('consumer', {
      ...isolated.env,
      OPS_PORT: '0',
      LOG_LEVEL: 'info',
      OBJECTS_API_URL: `http://127.0.0.1:${upstream.port}`,
    });
    consumers.push(consumer);
    return consumer;
  }

  it('loses nothing and leaves nothing unacknowledged', async () => {
    const first = startConsumer();
    await first.waitForLog(/consumer started/);
    const ids = Array.from({ length: 400 }, (_, i) => i);
    expect((await postCallback(producer.port, { object_ids: ids.slice(0, 200) })).status).toBe(200);
    expect((await postCallback(producer.port, { object_ids: ids.slice(200) })).status).toBe(200);

    // Every id is in flight at the upstream (0.8–2 s each) when the process dies.
    await waitFor('checks in flight', () => upstream.stats().requests >= 300);
    await first.kill9();
    const { rows: before } = await db.query(`select count(*)::int as n from "${isolated.schema}".objects`);
    expect(before[0].n).toBeLessThan(200);

    const second = startConsumer();
    await second.waitForLog(/consumer started/);
    const online = ids.filter((id) => id % 2 === 0);
    await waitFor(
      'every online id stored',
      async () => {
        const { rows } = await db.query(`select count(*)::int as n from "${isolated.schema}".objects`);
        return rows[0].n === online.length;
      },
      { timeoutMs: 30_000 },
    );
    const { rows } = await db.query<{ id: string }>(
      `select id from "${isolated.schema}".objects order by id`,
    );
    expect(rows.map((r) => Number(r.id))).toEqual(online);

    // A graceful stop returns any unacked message to the queue: none may be left there.
    expect(await second.stop()).toBe(0);
    const names = topologyNames(isolated.prefix);
    expect(await probe.queue(names.workQueue('object.check'))).toEqual({ ready: 0, consumers: 0 });
    expect((await probe.queue(names.deadLetterQueue)).ready).toBe(0);
  });
});
