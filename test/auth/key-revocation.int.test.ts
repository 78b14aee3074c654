import { createDatabase, sql, type DatabaseHandle } from '@conveyor/database';
import { loadConfig, memoryLogger, silentLogger } from '@conveyor/platform';
import { TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import {
  createApiClient,
  hashApiKey,
  revokeApiClient,
} from '../../services/producer/src/auth/api-client.repository.js';
import { API_KEY_CACHE_TTL_MS } from '../../services/producer/src/auth/api-key-cache.js';
import { ProducerEnv } from '../../services/producer/src/config.js';
import { ProducerApp } from '../../services/producer/src/producer-app.js';
import { createIsolatedEnv, postCallback, request, type IsolatedEnv } from '../harness.js';

/** Refused at once means well inside this, against the 30 s the cache would otherwise keep a key. */
const AT_ONCE_MS = 2_000;

/**
 * Two producers on the same schema, each with the key in its cache; revoking it (the code path of
 * `pnpm client:revoke`) makes both refuse it at once, not after the cache's 30 s. A key whose
 * revocation a producer never heard (its listener was disconnected) is not kept alive either.
 */
describe('API key revocation', () => {
  let isolated: IsolatedEnv;
  let admin: DatabaseHandle;
  const producers: ProducerApp[] = [];
  const logs: ReturnType<typeof memoryLogger>[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('revoke');
    for (let i = 0; i < 2; i++) {
      const memory = memoryLogger('info');
      const producer = new ProducerApp(
        loadConfig(ProducerEnv, { ...isolated.env, PORT: '0', OPS_PORT: '0', AUTH_ENABLED: 'true' }),
        memory.log,
      );
      await producer.start();
      producers.push(producer);
      logs.push(memory);
    }
    admin = createDatabase({
      url: TEST_DATABASE_URL,
      schema: isolated.schema,
      poolMax: 2,
      log: silentLogger(),
    });
  });

  afterAll(async () => {
    for (const producer of producers) await producer.stop();
    await admin.close();
    await isolated.dispose();
  });

  const listenersConnected = (count: number) =>
    waitFor('every producer listening for revocations', () =>
      logs.every((l) => l.records.filter((r) => r.message === 'listening for notifications').length >= count),
    );
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const jobsStatus = async (producer: ProducerApp, key: string) =>
    (await request(producer.port, 'GET', '/v1/jobs', undefined, bearer(key))).status;
  const callbackStatus = async (producer: ProducerApp, key: string) =>
    (await postCallback(producer.port, { object_ids: [1] }, bearer(key))).status;

  /**
   * Changes a key's hash behind the producers' backs (no notification), as a revocation they
   * never heard of would: a producer that still accepts the key answers from its cache.
   */
  const changeHashUnheard = (clientId: string, keyHash: string | null) =>
    admin.db.updateTable('api_clients').set({ key_hash: keyHash }).where('id', '=', clientId).execute();

  it('refuses a revoked key at once on every producer, though both had it cached', async () => {
    await listenersConnected(1);
    const alice = await createApiClient(admin.db, 'alice');
    const bob = await createApiClient(admin.db, 'bob');
    for (const producer of producers) {
      expect(await jobsStatus(producer, alice.apiKey)).toBe(200);
      expect(await callbackStatus(producer, alice.apiKey)).toBe(200);
      expect(await jobsStatus(producer, bob.apiKey)).toBe(200);
    }
    // Proof that both answer from their caches: the database no longer knows the key, they still accept it.
    await changeHashUnheard(alice.id, hashApiKey('something else'));
    for (const producer of producers) expect(await jobsStatus(producer, alice.apiKey)).toBe(200);

    const revokedAt = Date.now();
    expect(await revokeApiClient(admin.db, alice.id)).toEqual({ outcome: 'revoked', clientId: alice.id });
    await waitFor(
      'the key refused on both producers',
      async () =>
        (await Promise.all(producers.map((p) => jobsStatus(p, alice.apiKey)))).every(
          (status) => status === 401,
        ),
      { timeoutMs: AT_ONCE_MS },
    );
    expect(Date.now() - revokedAt).toBeLessThan(API_KEY_CACHE_TTL_MS / 10);
    for (const producer of producers) {
      const refused = await request(producer.port, 'GET', '/v1/jobs', undefined, bearer(alice.apiKey));
      expect(refused.body.error).toEqual({
        code: 'unauthorized',
        message: 'the API key is not valid (or was revoked)',
      });
      expect(await callbackStatus(producer, alice.apiKey)).toBe(401);
      // Another client's key is not affected.
      expect(await jobsStatus(producer, bob.apiKey)).toBe(200);
    }
    const row = await admin.db
      .selectFrom('api_clients')
      .select(['key_hash', 'revoked_at'])
      .where('id', '=', alice.id)
      .executeTakeFirstOrThrow();
    expect(row.key_hash).toBeNull();
    expect(row.revoked_at).toBeInstanceOf(Date);
  });

  it('revokes by API key too; a second revocation or an unknown client changes nothing', async () => {
    const carol = await createApiClient(admin.db, 'carol');
    for (const producer of producers) expect(await jobsStatus(producer, carol.apiKey)).toBe(200);
    expect(await revokeApiClient(admin.db, carol.apiKey)).toEqual({ outcome: 'revoked', clientId: carol.id });
    await waitFor(
      'the key refused on both producers',
      async () =>
        (await Promise.all(producers.map((p) => jobsStatus(p, carol.apiKey)))).every(
          (status) => status === 401,
        ),
      { timeoutMs: AT_ONCE_MS },
    );
    expect(await revokeApiClient(admin.db, carol.id)).toEqual({
      outcome: 'already_revoked',
      clientId: carol.id,
      revokedAt: expect.any(Date),
    });
    expect(await revokeApiClient(admin.db, 'cl_unknown')).toEqual({ outcome: 'not_found' });
    expect(await revokeApiClient(admin.db, 'default')).toEqual({ outcome: 'not_found' });
  });

  it('does not keep a key alive whose revocation a producer missed while its listener was disconnected', async () => {
    await listenersConnected(1);
    const dave = await createApiClient(admin.db, 'dave');
    for (const producer of producers) expect(await jobsStatus(producer, dave.apiKey)).toBe(200);
    await changeHashUnheard(dave.id, null); // revoked, but the notification is lost
    for (const producer of producers) expect(await jobsStatus(producer, dave.apiKey)).toBe(200);
    // Drop the producers' listening connections (as a network blip or a PostgreSQL restart would).
    const { rows } = await sql<{ terminated: boolean }>`
      select pg_terminate_backend(pid) as terminated from pg_stat_activity
      where application_name = ${`conveyor-producer revocations ${isolated.schema}`}`.execute(admin.db);
    expect(rows).toHaveLength(producers.length);
    await waitFor(
      'the key refused on both producers',
      async () =>
        (await Promise.all(producers.map((p) => jobsStatus(p, dave.apiKey)))).every(
          (status) => status === 401,
        ),
      { timeoutMs: AT_ONCE_MS },
    );
    // And they listen again: the next revocation is heard as before.
    await listenersConnected(2);
  });
});
