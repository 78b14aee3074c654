import { randomUUID } from 'node:crypto';
import { createDatabase, type DatabaseHandle } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import { TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import { createApiClient } from '../../services/producer/src/auth/api-client.repository.js';
import { createIsolatedEnv, request, startServices, type IsolatedEnv, type Services } from '../harness.js';

/**
 * Who reaches what with authentication on: client keys see only their own jobs (history and
 * retry included) and get 403 operator_only on every operator route; an operator key sees every
 * client's jobs; no key is a 401 everywhere. Bad input is a 4xx with the error body.
 */
describe('operator API access', () => {
  let isolated: IsolatedEnv;
  let services: Services;
  let admin: DatabaseHandle;
  let port: number;
  const keys = { a: '', b: '', ops: '' };
  const clientIds = { a: '', b: '' };
  const jobs = { a: '', b: '' };

  const as = (key: string) => ({ authorization: `Bearer ${key}` });
  const finished = (id: string, key: string) =>
    waitFor(`job ${id} finished`, async () => {
      const { body } = await request(port, 'GET', `/v1/jobs/${id}`, undefined, as(key));
      return body.status === 'succeeded';
    });

  beforeAll(async () => {
    isolated = await createIsolatedEnv('opaccess');
    services = await startServices({ ...isolated.env, AUTH_ENABLED: 'true' });
    ({ port } = services);
    admin = createDatabase({
      url: TEST_DATABASE_URL,
      schema: isolated.schema,
      poolMax: 2,
      log: silentLogger(),
    });
    const a = await createApiClient(admin.db, 'a');
    const b = await createApiClient(admin.db, 'b');
    const ops = await createApiClient(admin.db, 'ops', 'operator');
    keys.a = a.apiKey;
    keys.b = b.apiKey;
    keys.ops = ops.apiKey;
    clientIds.a = a.id;
    clientIds.b = b.id;
    for (const client of ['a', 'b'] as const) {
      const submitted = await request(
        port,
        'POST',
        '/v1/jobs',
        { kind: 'factorize', input: { number: '91' } },
        as(keys[client]),
      );
      expect(submitted.status).toBe(202);
      jobs[client] = submitted.body.id;
    }
    for (const client of ['a', 'b'] as const) await finished(jobs[client], keys[client]);
  });

  afterAll(async () => {
    await services.stop();
    await admin.close();
    await isolated.dispose();
  });

  const someId = randomUUID();
  // Always three values: jest hands a test function with more parameters than its row a `done` callback.
  const operatorRoutes: [string, string, unknown][] = [
    ['GET', '/v1/dead-letters', undefined],
    ['GET', `/v1/dead-letters/${someId}`, undefined],
    ['POST', `/v1/dead-letters/${someId}/redrive`, undefined],
    ['POST', '/v1/dead-letters/redrive', { all: true }],
    ['POST', '/v1/dead-letters/purge', { all: true }],
    ['GET', '/v1/queues', undefined],
    ['POST', '/v1/queues/factorize/pause', undefined],
    ['POST', '/v1/queues/factorize/resume', undefined],
    ['GET', '/v1/workers', undefined],
    ['GET', '/v1/overview', undefined],
    ['GET', '/v1/overview/timeseries?minutes=5', undefined],
    ['GET', '/v1/live', undefined],
  ];

  it.each(operatorRoutes)(
    '%s %s: 403 operator_only for a client key, 401 without a key',
    async (method, path, body) => {
      const refused = await request(port, method, path, body, as(keys.a));
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('operator_only');
      expect(refused.body.error.message).toMatch(/operator key/);
      const anonymous = await request(port, method, path, body);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error.code).toBe('unauthorized');
    },
  );

  it('an operator key reaches the operator routes', async () => {
    for (const [method, path, body] of operatorRoutes.filter(([, path]) => path !== '/v1/live')) {
      const answer = await request(port, method, path, body, as(keys.ops));
      expect([200, 404]).toContain(answer.status);
      if (answer.status === 404) expect(answer.body.error.code).toBe('not_found');
    }
  });

  it("a client key sees only its own jobs, their history and retry; another's is a 404", async () => {
    const list = await request(port, 'GET', '/v1/jobs', undefined, as(keys.a));
    expect(list.body.jobs.map((job: { id: string }) => job.id)).toEqual([jobs.a]);
    const foreignFilter = await request(
      port,
      'GET',
      `/v1/jobs?clientId=${clientIds.b}`,
      undefined,
      as(keys.a),
    );
    expect(foreignFilter.status).toBe(403);
    expect(foreignFilter.body.error.code).toBe('operator_only');
    const ownFilter = await request(port, 'GET', `/v1/jobs?clientId=${clientIds.a}`, undefined, as(keys.a));
    expect(ownFilter.body.jobs).toHaveLength(1);
    for (const path of [
      `/v1/jobs/${jobs.b}`,
      `/v1/jobs/${jobs.b}/events`,
      `/v1/jobs/${jobs.b}/deliveries`,
      `/v1/jobs/${jobs.b}/live`,
    ]) {
      const answer = await request(port, 'GET', path, undefined, as(keys.a));
      expect([path, answer.status]).toEqual([path, 404]);
    }
    expect((await request(port, 'POST', `/v1/jobs/${jobs.b}/retry`, undefined, as(keys.a))).status).toBe(404);
    expect((await request(port, 'DELETE', `/v1/jobs/${jobs.b}`, undefined, as(keys.a))).status).toBe(404);
    const history = await request(port, 'GET', `/v1/jobs/${jobs.a}/events`, undefined, as(keys.a));
    expect(history.status).toBe(200);
    expect(history.body.jobId).toBe(jobs.a);
    expect(history.body.entries[0]).toMatchObject({
      type: 'status',
      status: 'queued',
      attempt: 0,
      sequence: 1,
    });
    const stats = await request(port, 'GET', '/v1/stats', undefined, as(keys.a));
    expect(Object.values(stats.body.byStatus as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it("an operator key sees and steers every client's jobs, and filters by client", async () => {
    const list = await request(port, 'GET', '/v1/jobs', undefined, as(keys.ops));
    expect(list.body.jobs.map((job: { id: string }) => job.id).sort()).toEqual([jobs.a, jobs.b].sort());
    const onlyB = await request(port, 'GET', `/v1/jobs?clientId=${clientIds.b}`, undefined, as(keys.ops));
    expect(onlyB.body.jobs.map((job: { id: string }) => job.id)).toEqual([jobs.b]);
    expect((await request(port, 'GET', `/v1/jobs/${jobs.b}`, undefined, as(keys.ops))).status).toBe(200);
    expect((await request(port, 'GET', `/v1/jobs/${jobs.b}/events`, undefined, as(keys.ops))).status).toBe(
      200,
    );
    expect(
      (await request(port, 'GET', `/v1/jobs/${jobs.b}/deliveries`, undefined, as(keys.ops))).status,
    ).toBe(200);
    const stats = await request(port, 'GET', '/v1/stats', undefined, as(keys.ops));
    expect(Object.values(stats.body.byStatus as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(2);
    const notRetryable = await request(port, 'POST', `/v1/jobs/${jobs.b}/retry`, undefined, as(keys.ops));
    expect(notRetryable.status).toBe(409);
    expect(notRetryable.body.error.code).toBe('job_not_retryable');
  });

  const badInput: [string, string, unknown, number, string][] = [
    ['GET', '/v1/dead-letters?limit=0', undefined, 400, 'validation_failed'],
    ['GET', '/v1/dead-letters?cursor=nope', undefined, 400, 'invalid_cursor'],
    ['GET', '/v1/dead-letters?color=red', undefined, 400, 'validation_failed'],
    ['POST', '/v1/dead-letters/redrive', {}, 400, 'validation_failed'],
    ['POST', '/v1/dead-letters/purge', { ids: ['x'] }, 400, 'validation_failed'],
    ['POST', '/v1/dead-letters/redrive', { kind: 'a', all: true }, 400, 'validation_failed'],
    ['GET', '/v1/overview/timeseries?minutes=0', undefined, 400, 'validation_failed'],
    ['GET', '/v1/overview/timeseries?minutes=abc', undefined, 400, 'validation_failed'],
    ['POST', '/v1/queues/nonesuch/pause', undefined, 404, 'unknown_kind'],
    ['GET', '/v1/dead-letters/not-a-uuid', undefined, 404, 'not_found'],
    ['POST', '/v1/jobs/not-a-uuid/retry', undefined, 404, 'not_found'],
    ['GET', '/v1/jobs/not-a-uuid/events', undefined, 404, 'not_found'],
  ];
  it.each(badInput)('%s %s %j → %i %s', async (method, path, body, status, code) => {
    const answer = await request(port, method, path, body, as(keys.ops));
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expect(typeof answer.body.error.message).toBe('string');
  });

  it('names the known kinds when a pause names an unknown one', async () => {
    const answer = await request(port, 'POST', '/v1/queues/nonesuch/resume', undefined, as(keys.ops));
    expect(answer.body.error.message).toContain('object-check');
    expect(answer.body.error.message).toContain('factorize');
  });

  it('describes every operator route in /openapi.json, tagged operator', async () => {
    const { body } = await request(port, 'GET', '/openapi.json');
    const expected: [string, string][] = [
      ['/v1/jobs/{id}/events', 'get'],
      ['/v1/jobs/{id}/retry', 'post'],
      ['/v1/jobs/{id}/live', 'get'],
      ['/v1/live', 'get'],
      ['/v1/dead-letters', 'get'],
      ['/v1/dead-letters/{id}', 'get'],
      ['/v1/dead-letters/{id}/redrive', 'post'],
      ['/v1/dead-letters/redrive', 'post'],
      ['/v1/dead-letters/purge', 'post'],
      ['/v1/queues', 'get'],
      ['/v1/queues/{kind}/pause', 'post'],
      ['/v1/queues/{kind}/resume', 'post'],
      ['/v1/workers', 'get'],
      ['/v1/overview', 'get'],
      ['/v1/overview/timeseries', 'get'],
    ];
    for (const [path, method] of expected)
      expect([path, body.paths[path]?.[method]?.tags]).toEqual([path, ['operator']]);
    const listParams = body.paths['/v1/jobs'].get.parameters.map((p: { name: string }) => p.name);
    expect(listParams).toContain('clientId');
  });
});
