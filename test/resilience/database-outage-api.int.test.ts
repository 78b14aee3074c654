import { loadConfig, memoryLogger } from '@conveyor/platform';
import { createDatabase, type DatabaseHandle } from '@conveyor/database';
import { proxyInFrontOf, TEST_DATABASE_URL, waitFor, type FaultProxy } from '@conveyor/testkit';
import { createApiClient } from '../../services/producer/src/auth/api-client.repository.js';
import { ProducerEnv } from '../../services/producer/src/config.js';
import { ProducerApp } from '../../services/producer/src/producer-app.js';
import { createIsolatedEnv, request, type IsolatedEnv } from '../harness.js';

/**
 * PostgreSQL cut off from a running producer (through the test kit's fault proxy): every route
 * that needs it answers 503 with Retry-After and logs a warning, never a 500; once it is back,
 * the same requests succeed.
 */
describe('database unreachable from the producer', () => {
  let isolated: IsolatedEnv;
  let pgProxy: FaultProxy;
  let open: ProducerApp;
  let authed: ProducerApp;
  let logs: ReturnType<typeof memoryLogger>;
  let admin: DatabaseHandle;
  let apiKey: string;
  let jobId: string;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('dbapi');
    const database = await proxyInFrontOf(TEST_DATABASE_URL);
    pgProxy = database.proxy;
    logs = memoryLogger('warn');
    const env = { ...isolated.env, DATABASE_URL: database.url, PORT: '0', OPS_PORT: '0' };
    open = new ProducerApp(loadConfig(ProducerEnv, env), logs.log);
    authed = new ProducerApp(loadConfig(ProducerEnv, { ...env, AUTH_ENABLED: 'true' }), logs.log);
    await open.start();
    await authed.start();
    admin = createDatabase({ url: TEST_DATABASE_URL, schema: isolated.schema, poolMax: 1, log: logs.log });
    ({ apiKey } = await createApiClient(admin.db, 'outage'));
    const submitted = await request(open.port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '77' },
    });
    expect(submitted.status).toBe(202);
    jobId = submitted.body.id;
  });

  afterAll(async () => {
    pgProxy.restore();
    await open.stop();
    await authed.stop();
    await admin.close();
    await pgProxy.stop();
    await isolated.dispose();
  });

  it('answers 503 with Retry-After on every database route while it is cut, then serves again', async () => {
    pgProxy.cut();
    const bearer = { authorization: `Bearer ${apiKey}` };
    const attempts = [
      () => request(open.port, 'POST', '/v1/jobs', { kind: 'factorize', input: { number: '91' } }),
      () => request(open.port, 'GET', `/v1/jobs/${jobId}`),
      () => request(open.port, 'GET', '/v1/jobs?status=queued'),
      () => request(open.port, 'GET', '/v1/stats'),
      () => request(open.port, 'DELETE', `/v1/jobs/${jobId}`),
      () => request(open.port, 'POST', '/factor', { number: 1234 }),
      () => request(open.port, 'GET', `/get/${jobId}`),
      () => request(open.port, 'GET', '/tasks/active'),
      // With auth on, the key lookup itself needs the database: 503, not 401 and not 500.
      () => request(authed.port, 'GET', `/v1/jobs/${jobId}`, undefined, bearer),
    ];
    for (const attempt of attempts) {
      const response = await attempt();
      expect({ status: response.status, code: response.body?.error?.code }).toEqual({
        status: 503,
        code: 'database_unavailable',
      });
      expect(response.headers.get('retry-after')).toBe('2');
    }
    const warnings = logs.records.filter((r) => r.level === 'warn' && r.message === 'request failed');
    expect(warnings.length).toBeGreaterThanOrEqual(attempts.length);
    expect(logs.records.filter((r) => r.message === 'unhandled error')).toEqual([]);
    // The cause the operator needs is in the warning, not an empty "{}".
    expect(JSON.stringify(warnings[0]!.error)).toMatch(/"message":"[^"]+"/);

    pgProxy.restore();
    await waitFor(
      'the producer serves again',
      async () => (await request(open.port, 'GET', `/v1/jobs/${jobId}`)).status === 200,
    );
    expect((await request(authed.port, 'GET', `/v1/jobs/${jobId}`, undefined, bearer)).status).toBe(404); // another client's job
    expect(
      (await request(open.port, 'POST', '/v1/jobs', { kind: 'factorize', input: { number: '91' } })).status,
    ).toBe(202);
  });
});
