import pg from 'pg';
import { startObjectsApi, type ObjectsApi } from '../../services/tester/src/objects-api.js';
import { TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import { cleanupApp, createIsolatedEnv, postCallback, startServices, type IsolatedEnv } from '../harness.js';

describe('object-status pipeline end to end', () => {
  let isolated: IsolatedEnv;
  let upstream: ObjectsApi;
  let db: pg.Client;
  const apps: { stop(): Promise<void> }[] = [];
  let producerPort: number;
  let env: Record<string, string>;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('pipeline');
    upstream = await startObjectsApi({ port: 0, host: '127.0.0.1', minDelayMs: 5, maxDelayMs: 50 });
    env = {
      ...isolated.env,
      OBJECTS_API_URL: `http://127.0.0.1:${upstream.port}`,
      OBJECT_TTL_MS: '4000',
      ROUTINE_INTERVAL_MS: '200',
    };
    const services = await startServices(env);
    apps.push(services);
    producerPort = services.port;
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    for (const app of apps) await app.stop();
    await db.end();
    await upstream.close();
    await isolated.dispose();
  });

  async function storedIds(): Promise<number[]> {
    const { rows } = await db.query<{ id: string }>(
      `select id from "${isolated.schema}".objects order by id`,
    );
    return rows.map((r) => Number(r.id));
  }

  it('stores every online id with its last_seen, then lets stale ones expire', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => i);
    const acceptedAt = Date.now();
    const response = await postCallback(producerPort, { object_ids: ids });
    expect(response).toEqual({ status: 200, body: { accepted: 200 } });

    const online = ids.filter((id) => id % 2 === 0);
    await waitFor('every online id stored', async () => (await storedIds()).length === online.length);
    expect(await storedIds()).toEqual(online);

    const { rows } = await db.query<{ last_seen: Date }>(
      `select last_seen from "${isolated.schema}".objects`,
    );
    for (const row of rows) {
      expect(row.last_seen.getTime()).toBeGreaterThanOrEqual(acceptedAt - 1_000);
      expect(row.last_seen.getTime()).toBeLessThanOrEqual(Date.now());
    }

    // Nothing refreshes them now: after the 4 s TTL the routine removes them all.
    const cleanup = cleanupApp(env);
    await cleanup.start();
    apps.unshift(cleanup);
    await waitFor('stale objects deleted', async () => (await storedIds()).length === 0, {
      timeoutMs: 10_000,
    });
  });

  it('moves last_seen forward while callbacks keep naming the object, so it never expires', async () => {
    const lastSeen = async () => {
      const { rows } = await db.query<{ last_seen: Date }>(
        `select last_seen from "${isolated.schema}".objects where id = 1000`,
      );
      return rows[0]?.last_seen.getTime();
    };
    await postCallback(producerPort, { object_ids: [1000] });
    const first = await waitFor('object 1000 stored', lastSeen);
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 500));
      await postCallback(producerPort, { object_ids: [1000] });
      // Refreshed every 0.5 s against a 4 s TTL, the row must never disappear.
      expect(await lastSeen()).toBeDefined();
    }
    await waitFor(
      'last_seen moved forward by the later callbacks',
      async () => ((await lastSeen()) ?? 0) >= first + 4_500,
    );
  });
});
