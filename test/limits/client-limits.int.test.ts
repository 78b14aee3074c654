import { createDatabase, type DatabaseHandle } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import { TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import { createApiClient } from '../../services/producer/src/auth/api-client.repository.js';
import { consumerApp, createIsolatedEnv, producerApp, request, type IsolatedEnv } from '../harness.js';

const WINDOW_MS = 5_000;

/**
 * Per-client limits shared by producer replicas: a quota of submits and of callbacks per window
 * (429 with Retry-After and the IETF RateLimit headers, the quota held across two producers), and
 * a cap on a client's unfinished jobs.
 */
describe('client limits', () => {
  let isolated: IsolatedEnv;
  let admin: DatabaseHandle;
  const apps: { stop(): Promise<void> }[] = [];
  let keys: { a: string; b: string; c: string };

  const producer = async (env: Record<string, string>) => {
    const app = producerApp({ ...isolated.env, AUTH_ENABLED: 'true', ...env });
    await app.start();
    apps.push(app);
    return app.port;
  };
  const auth = (key: string) => ({ authorization: `Bearer ${key}` });
  const submit = (port: number, key: string) =>
    request(port, 'POST', '/v1/jobs', { kind: 'factorize', input: { number: '1234' } }, auth(key));
  /** Waits until a window has just begun, so a quick burst falls in one window. */
  const startOfWindow = async () => {
    const intoWindow = Date.now() % WINDOW_MS;
    if (intoWindow > 200) await new Promise((resolve) => setTimeout(resolve, WINDOW_MS - intoWindow + 20));
  };

  beforeAll(async () => {
    isolated = await createIsolatedEnv('limits');
    admin = createDatabase({
      url: TEST_DATABASE_URL,
      schema: isolated.schema,
      poolMax: 1,
      log: silentLogger(),
    });
    // The first producer migrates the schema the clients are made in.
    await producer({});
    keys = {
      a: (await createApiClient(admin.db, 'a')).apiKey,
      b: (await createApiClient(admin.db, 'b')).apiKey,
      c: (await createApiClient(admin.db, 'c')).apiKey,
    };
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop();
    await admin.close();
    await isolated.dispose();
  });

  it('holds a client to its submit quota across two producers, with RateLimit headers and Retry-After', async () => {
    const limited = { RATE_LIMIT_SUBMITS: '10', RATE_LIMIT_WINDOW_MS: String(WINDOW_MS) };
    const ports = [await producer(limited), await producer(limited)];
    await startOfWindow();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => submit(ports[i % 2]!, keys.a)));
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status === 429);
    expect(accepted).toHaveLength(10);
    expect(refused).toHaveLength(20);
    for (const answer of answers)
      expect(answer.headers.get('ratelimit-policy')).toBe(`"submits";q=10;w=${WINDOW_MS / 1000}`);
    for (const answer of refused) {
      expect(answer.body.error.code).toBe('rate_limited');
      const retryAfter = Number(answer.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);
      expect(answer.headers.get('ratelimit')).toMatch(new RegExp(`^"submits";r=0;t=${retryAfter}$`));
    }
    // What was left, as each accepted answer told it: 9 down to 0 across both producers.
    const remaining = accepted.map((a) => Number(/r=(\d+)/.exec(a.headers.get('ratelimit')!)![1]));
    expect(Math.min(...remaining)).toBe(0);
    expect(Math.max(...remaining)).toBeLessThanOrEqual(9);

    // Another client has a quota of its own; the next window gives this one its quota again.
    expect((await submit(ports[0]!, keys.b)).status).toBe(202);
    await waitFor('the next window', async () => (await submit(ports[1]!, keys.a)).status === 202, {
      timeoutMs: WINDOW_MS * 2,
      intervalMs: 250,
    });
  });

  it('limits POST /callback per client', async () => {
    const port = await producer({ RATE_LIMIT_CALLBACKS: '2', RATE_LIMIT_WINDOW_MS: String(WINDOW_MS) });
    await startOfWindow();
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await request(port, 'POST', '/callback', { object_ids: [i] }, auth(keys.a))).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('caps a client’s unfinished jobs, and admits more as they finish', async () => {
    const port = await producer({ MAX_JOBS_IN_FLIGHT: '3', IN_FLIGHT_REFRESH_MS: '50' });
    const first = [];
    for (let i = 0; i < 3; i++) first.push((await submit(port, keys.c)).status);
    expect(first).toEqual([202, 202, 202]);
    const refused = await submit(port, keys.c);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('too_many_jobs_in_flight');
    expect(refused.headers.get('retry-after')).toBe('1');
    // Another client (one job in flight, from the first test) is not held by these.
    expect((await submit(port, keys.b)).status).toBe(202);

    const consumer = consumerApp({ ...isolated.env, BUILT_IN_KINDS: 'factorize' });
    await consumer.start();
    apps.push(consumer);
    await waitFor(
      'a submit admitted once the jobs finished',
      async () => (await submit(port, keys.c)).status === 202,
      {
        timeoutMs: 20_000,
        intervalMs: 200,
      },
    );
  });
});
