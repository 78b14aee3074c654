import { topologyNames } from '@conveyor/contracts';
import { createDatabase, type DatabaseHandle } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import { BrokerProbe, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import { createApiClient } from '../../services/producer/src/auth/api-client.repository.js';
import { createIsolatedEnv, postCallback, producerApp, request, type IsolatedEnv } from '../harness.js';

const SECRET = 'old-upstream-secret-0123456789';

/**
 * With AUTH_ENABLED, POST /callback (one request queues up to 10,000 upstream checks) needs an
 * API key, or what the old upstream is configured to send instead: the shared secret, a source
 * address in the allow-list, or both. A refused callback publishes nothing. With auth off
 * nothing changes. /metrics is served on the ops port only.
 */
describe('POST /callback with authentication on', () => {
  let isolated: IsolatedEnv;
  let probe: BrokerProbe;
  let admin: DatabaseHandle;
  let apiKey: string;
  const producers: ReturnType<typeof producerApp>[] = [];
  let keyOnly: ReturnType<typeof producerApp>;
  let withSecret: ReturnType<typeof producerApp>;
  let secretFromElsewhere: ReturnType<typeof producerApp>;
  let fromThisHost: ReturnType<typeof producerApp>;
  let open: ReturnType<typeof producerApp>;

  const start = async (env: Record<string, string>) => {
    const producer = producerApp({ ...isolated.env, ...env });
    producers.push(producer);
    await producer.start();
    return producer;
  };

  beforeAll(async () => {
    isolated = await createIsolatedEnv('cbauth');
    keyOnly = await start({ AUTH_ENABLED: 'true' });
    withSecret = await start({ AUTH_ENABLED: 'true', CALLBACK_SHARED_SECRET: SECRET });
    // The right secret from an address outside the allow-list: both must hold.
    secretFromElsewhere = await start({
      AUTH_ENABLED: 'true',
      CALLBACK_SHARED_SECRET: SECRET,
      CALLBACK_ALLOWED_SOURCES: '10.0.0.0/8, 192.0.2.1',
    });
    fromThisHost = await start({ AUTH_ENABLED: 'true', CALLBACK_ALLOWED_SOURCES: '127.0.0.1/32' });
    open = await start({});
    admin = createDatabase({
      url: TEST_DATABASE_URL,
      schema: isolated.schema,
      poolMax: 1,
      log: silentLogger(),
    });
    ({ apiKey } = await createApiClient(admin.db, 'upstream'));
    probe = await BrokerProbe.open();
  });

  afterAll(async () => {
    for (const producer of producers) await producer.stop();
    await probe.close();
    await admin.close();
    await isolated.dispose();
  });

  const queued = async () =>
    (await probe.queue(topologyNames(isolated.prefix).workQueue('object.check'))).ready;
  const ids = Array.from({ length: 50 }, (_, i) => i + 1);
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

  /** Posts, and checks that a refusal queued nothing (and an acceptance queued every id). */
  async function post(port: number, headers: Record<string, string>) {
    const before = await queued();
    const response = await postCallback(port, { object_ids: ids }, headers);
    const expected = before + (response.status === 200 ? ids.length : 0);
    await waitFor(`${expected} messages queued`, async () => (await queued()) === expected);
    return response as {
      status: number;
      body: { accepted?: number; error?: { code: string; message: string } };
    };
  }

  it('refuses a callback without a key: 401, saying what to send, nothing queued', async () => {
    const response = await fetch(`http://127.0.0.1:${keyOnly.port}/callback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ object_ids: ids }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await response.json()).toEqual({
      error: { code: 'unauthorized', message: 'send your API key as "Authorization: Bearer <key>"' },
    });
    expect(await post(keyOnly.port, {})).toMatchObject({ status: 401 });
  });

  it('refuses an unknown key, a malformed header, and a secret where none is configured', async () => {
    for (const headers of [
      bearer('cvk_not-a-key'),
      { authorization: 'Basic dXNlcjpwYXNz' },
      { 'x-callback-secret': SECRET },
    ]) {
      const response = await post(keyOnly.port, headers);
      expect({ status: response.status, code: response.body.error?.code }).toEqual({
        status: 401,
        code: 'unauthorized',
      });
    }
  });

  it('accepts a callback with a valid key', async () => {
    expect(await post(keyOnly.port, bearer(apiKey))).toEqual({ status: 200, body: { accepted: ids.length } });
  });

  it('accepts the old upstream with the shared secret, refuses a wrong or missing one', async () => {
    expect(await post(withSecret.port, { 'x-callback-secret': SECRET })).toEqual({
      status: 200,
      body: { accepted: ids.length },
    });
    const wrong = await post(withSecret.port, { 'x-callback-secret': `${SECRET}x` });
    expect(wrong).toEqual({
      status: 401,
      body: {
        error: { code: 'unauthorized', message: 'the callback secret in "x-callback-secret" is not valid' },
      },
    });
    const missing = await post(withSecret.port, {});
    expect(missing.status).toBe(401);
    expect(missing.body.error?.message).toMatch(/Authorization: Bearer <key>.*x-callback-secret: <secret>/);
    // A key still works there, and a wrong key is refused even next to the right secret.
    expect((await post(withSecret.port, bearer(apiKey))).status).toBe(200);
    expect(
      (await post(withSecret.port, { ...bearer('cvk_wrong'), 'x-callback-secret': SECRET })).status,
    ).toBe(401);
  });

  it('refuses the right secret from outside the allow-list with 403; a key is accepted from anywhere', async () => {
    const response = await post(secretFromElsewhere.port, { 'x-callback-secret': SECRET });
    expect(response.status).toBe(403);
    expect(response.body.error).toEqual({
      code: 'forbidden',
      message: expect.stringMatching(/Authorization: Bearer <key>/),
    });
    expect((await post(secretFromElsewhere.port, bearer(apiKey))).status).toBe(200);
  });

  it('accepts a keyless callback from an allowed source address', async () => {
    expect(await post(fromThisHost.port, {})).toEqual({ status: 200, body: { accepted: ids.length } });
    expect((await post(fromThisHost.port, bearer('cvk_wrong'))).status).toBe(401);
  });

  it('changes nothing with auth off: anyone may post', async () => {
    expect(await post(open.port, {})).toEqual({ status: 200, body: { accepted: ids.length } });
  });

  it('serves /metrics on the ops port only; both ports answer /healthz and /readyz', async () => {
    for (const producer of [keyOnly, open]) {
      const api = await request(producer.port, 'GET', '/metrics', undefined, bearer(apiKey));
      expect({ status: api.status, code: api.body.error?.code }).toEqual({ status: 404, code: 'not_found' });
      const metrics = await request(producer.opsPort, 'GET', '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.body).toMatch(/conveyor_http_requests_total\{[^}]*route="\/callback"/);
      for (const port of [producer.port, producer.opsPort]) {
        expect((await request(port, 'GET', '/healthz')).status).toBe(200);
        expect((await request(port, 'GET', '/readyz')).body).toEqual({
          status: 'ready',
          checks: { database: true, broker: true },
        });
      }
    }
    // The ops port serves nothing else.
    expect((await request(keyOnly.opsPort, 'POST', '/callback', { object_ids: [1] })).status).toBe(404);
  });
});
