import { topologyNames } from '@conveyor/contracts';
import { createDatabase, sql, type DatabaseHandle } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import { BrokerProbe, FaultProxy, ServiceProcess, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import { createApiClient } from '../../services/producer/src/auth/api-client.repository.js';
import { createIsolatedEnv, producerApp, request, type IsolatedEnv } from '../harness.js';

/**
 * `Idempotency-Key` on POST /v1/jobs and POST /callback, per the IETF draft: the same key and body
 * replay the first answer (no second job, no second message), another body gets 422, a repeat
 * while the first is still being answered 409; keys are per client and shared by every producer
 * replica; a 5xx is not kept; a key held by a producer killed mid-request is free again after
 * IDEMPOTENCY_ABANDON_MS.
 */
describe('Idempotency-Key', () => {
  let isolated: IsolatedEnv;
  let admin: DatabaseHandle;
  let probe: BrokerProbe;
  let brokerProxy: FaultProxy;
  const producers: ReturnType<typeof producerApp>[] = [];
  let first: number;
  let second: number;
  let keys: { a: string; b: string };

  const start = async (env: Record<string, string> = {}) => {
    const producer = producerApp({ ...isolated.env, AUTH_ENABLED: 'true', ...env });
    producers.push(producer);
    await producer.start();
    return producer.port;
  };
  const auth = (key: string, idempotencyKey?: string) => ({
    authorization: `Bearer ${key}`,
    ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
  });
  const submit = (port: number, apiKey: string, idempotencyKey: string | undefined, number = '1234') =>
    request(port, 'POST', '/v1/jobs', { kind: 'factorize', input: { number } }, auth(apiKey, idempotencyKey));
  const jobCount = async (apiKey: string) =>
    ((await request(first, 'GET', '/v1/stats', undefined, auth(apiKey))).body.inProgress as number) +
    ((await request(first, 'GET', '/v1/stats', undefined, auth(apiKey))).body.byStatus.succeeded as number);

  beforeAll(async () => {
    isolated = await createIsolatedEnv('idemkey');
    first = await start();
    second = await start();
    admin = createDatabase({
      url: TEST_DATABASE_URL,
      schema: isolated.schema,
      poolMax: 1,
      log: silentLogger(),
    });
    keys = {
      a: (await createApiClient(admin.db, 'a')).apiKey,
      b: (await createApiClient(admin.db, 'b')).apiKey,
    };
    probe = await BrokerProbe.open();
    brokerProxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: 5672 });
  });

  afterAll(async () => {
    for (const producer of producers) await producer.stop();
    await brokerProxy.stop();
    await probe.close();
    await admin.close();
    await isolated.dispose();
  });

  it('replays the first answer to a repeat with the same body, from any replica, and makes one job', async () => {
    const key = `k-${Math.random()}`;
    const original = await submit(first, keys.a, key);
    expect(original.status).toBe(202);
    expect(original.headers.get('idempotent-replayed')).toBeNull();
    const before = await jobCount(keys.a);

    for (const port of [first, second]) {
      const repeat = await submit(port, keys.a, key);
      expect(repeat.status).toBe(202);
      expect(repeat.body).toEqual(original.body);
      expect(repeat.headers.get('location')).toBe(`/v1/jobs/${original.body.id}`);
      expect(repeat.headers.get('idempotent-replayed')).toBe('true');
    }
    // The header may be a Structured Field string: the quoted form is the same key.
    expect((await submit(first, keys.a, `"${key}"`)).body.id).toBe(original.body.id);
    expect(await jobCount(keys.a)).toBe(before);
  });

  it('refuses the key with another body (422), and keeps keys apart per client', async () => {
    const key = `k-${Math.random()}`;
    const mine = await submit(first, keys.a, key, '1234');
    const other = await submit(second, keys.a, key, '4321');
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    expect(other.body.error.details[0].path).toBe('headers.idempotency-key');

    const theirs = await submit(first, keys.b, key, '4321');
    expect(theirs.status).toBe(202);
    expect(theirs.body.id).not.toBe(mine.body.id);
  });

  it('refuses a malformed key with a 400 naming the header', async () => {
    const bad = await submit(first, keys.a, 'two words');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_idempotency_key' });
    expect(bad.body.error.details[0].path).toBe('headers.idempotency-key');
  });

  it('answers 409 to a repeat while the first callback waits on a stalled broker, then replays it; one message per id', async () => {
    const port = await start({
      AMQP_URL: `amqp://guest:guest@127.0.0.1:${brokerProxy.port}`,
      PUBLISH_TIMEOUT_MS: '3000',
    });
    const queue = topologyNames(isolated.env.AMQP_PREFIX!).workQueue('object.check');
    const key = `cb-${Math.random()}`;
    const body = { object_ids: [101, 102, 103] };
    const callback = () => request(port, 'POST', '/callback', body, auth(keys.a, key));

    brokerProxy.stall();
    const pending = callback();
    await waitFor(
      'the first callback holds its key',
      async () =>
        (
          await admin.db
            .selectFrom('idempotency_keys')
            .select('status')
            .where('key', '=', key)
            .executeTakeFirst()
        )?.status === 'in_progress',
    );
    const meanwhile = await callback();
    expect(meanwhile.status).toBe(409);
    expect(meanwhile.body.error.code).toBe('idempotency_key_in_progress');
    expect(meanwhile.headers.get('retry-after')).toBe('1');
    brokerProxy.unstall();

    const answered = await pending;
    expect(answered.status).toBe(200);
    const replayed = await callback();
    expect(replayed.status).toBe(200);
    expect(replayed.body).toEqual({ accepted: 3 });
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    await waitFor(
      'the three messages (spilled or confirmed) are on the queue',
      async () => (await probe.queue(queue)).ready >= 3,
      { timeoutMs: 15_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await probe.queue(queue)).ready).toBe(3);
  });

  it('keeps no 5xx: a submit whose insert the database refuses runs again when repeated', async () => {
    const key = `db-${Math.random()}`;
    // The job's insert fails after the key was taken: a trigger in this test's own schema refuses it.
    await sql`create function ${sql.id(isolated.schema, 'refuse_insert')}() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$`.execute(
      admin.db,
    );
    await sql`create trigger refuse_insert before insert on ${sql.id(isolated.schema, 'jobs')} for each row execute function ${sql.id(isolated.schema, 'refuse_insert')}()`.execute(
      admin.db,
    );
    let refused;
    try {
      refused = await submit(first, keys.a, key);
    } finally {
      await sql`drop trigger refuse_insert on ${sql.id(isolated.schema, 'jobs')}`.execute(admin.db);
    }
    expect(refused.status).toBe(500);
    const repeat = await submit(first, keys.a, key);
    expect(repeat.status).toBe(202);
    expect(repeat.headers.get('idempotent-replayed')).toBeNull();
  });

  it('frees a key held by a producer killed -9 mid-request once IDEMPOTENCY_ABANDON_MS has passed', async () => {
    const stalled = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: 5672 });
    const process = ServiceProcess.start('producer', {
      ...isolated.env,
      AUTH_ENABLED: 'true',
      PORT: '0',
      OPS_PORT: '0',
      LOG_LEVEL: 'info',
      AMQP_URL: `amqp://guest:guest@127.0.0.1:${stalled.port}`,
      PUBLISH_TIMEOUT_MS: '30000',
      IDEMPOTENCY_ABANDON_MS: '1000',
    });
    try {
      const port = JSON.parse(await process.waitForLog(/producer listening/)).port as number;
      const key = `kill-${Math.random()}`;
      const body = { object_ids: [7] };
      stalled.stall();
      const doomed = request(port, 'POST', '/callback', body, auth(keys.a, key)).catch(() => undefined);
      await waitFor(
        'the doomed callback holds its key',
        async () =>
          (
            await admin.db
              .selectFrom('idempotency_keys')
              .select('status')
              .where('key', '=', key)
              .executeTakeFirst()
          )?.status === 'in_progress',
      );
      await process.kill9();
      await doomed;
      expect((await request(first, 'POST', '/callback', body, auth(keys.a, key))).status).toBe(409);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      // `first` was started with the default window (60 s): the key is still held there.
      const takenOver = await start({ IDEMPOTENCY_ABANDON_MS: '1000' });
      const repeat = await request(takenOver, 'POST', '/callback', body, auth(keys.a, key));
      expect(repeat.status).toBe(200);
      expect(repeat.body).toEqual({ accepted: 1 });
    } finally {
      await stalled.stop();
      await process.kill9();
    }
  });
});
