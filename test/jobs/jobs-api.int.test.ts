import { createApiClient } from '../../services/producer/src/auth/api-client.repository.js';
import { createDatabase, type DatabaseHandle } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import { migratedDatabase, TEST_DATABASE_URL, waitFor, type MigratedDatabase } from '@conveyor/testkit';
import {
  createIsolatedEnv,
  producerApp,
  request,
  jobFinished,
  startServices,
  type IsolatedEnv,
  type Services,
} from '../harness.js';

describe('jobs API', () => {
  let isolated: IsolatedEnv;
  let services: Services;
  let port: number;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('jobsapi');
    services = await startServices(isolated.env);
    ({ port } = services);
  });

  afterAll(async () => {
    await services.stop();
    await isolated.dispose();
  });

  const finished = (id: string) => jobFinished(port, id);

  it('accepts a job with 202 and Location, follows it to its result', async () => {
    const submitted = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '1234' },
    });
    expect(submitted.status).toBe(202);
    expect(submitted.headers.get('location')).toBe(`/v1/jobs/${submitted.body.id}`);
    expect(submitted.body).toMatchObject({
      kind: 'factorize',
      status: 'queued',
      input: { number: '1234' },
      attempts: 0,
      customId: null,
    });
    expect(submitted.headers.get('retry-after')).toBe('1');

    const job = await finished(submitted.body.id);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1, progress: { fraction: 1 }, error: null });
    expect(job.result).toEqual({ factors: ['2', '617'], product: '1234', verified: true });
    expect(Date.parse(job.expiresAt) - Date.parse(job.finishedAt)).toBe(30 * 24 * 3600 * 1000);
    const again = await request(port, 'GET', `/v1/jobs/${job.id}`);
    expect(again.headers.get('retry-after')).toBeNull();
  });

  it.each([
    ['1', []],
    ['97', ['97']],
    [561, ['3', '11', '17']],
    ['1000000016000000063', ['1000000007', '1000000009']],
  ])('factorizes %j', async (number, factors) => {
    const { body } = await request(port, 'POST', '/v1/jobs', { kind: 'factorize', input: { number } });
    expect((await finished(body.id)).result.factors).toEqual(factors);
  });

  it.each([
    [{ number: '0' }, /0 has no prime factorization/],
    [{ number: '-12' }, /not negative/],
    [{ number: '1.5' }, /decimal point/],
    [{ number: 1.5 }, /fractional/],
    [{ number: '1e9' }, /exponent/],
    [{ number: '12a' }, /only the digits/],
    [{ number: '1'.repeat(101) }, /at most 100 digits/],
    [{ number: 2 ** 53 }, /string of digits/], // beyond Number.MAX_SAFE_INTEGER: JSON numbers lose precision there
  ])('refuses factorize input %j with a 400 naming the rule', async (input, message) => {
    const { status, body } = await request(port, 'POST', '/v1/jobs', { kind: 'factorize', input });
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_number');
    expect(body.error.message).toMatch(message);
    expect(body.error.details[0].path).toBe('body.input.number');
  });

  it.each([
    [{ kind: 'Nope!', input: {} }, 'body.kind'],
    [{ input: { number: '12' } }, 'body.kind'],
    [{ kind: 'factorize', input: { number: '12' }, customId: '' }, 'body.customId'],
    [{ kind: 'factorize', input: { number: '12' }, customId: 'has space' }, 'body.customId'],
    [{ kind: 'factorize', input: { number: '12' }, extra: 1 }, 'body'],
    [{ kind: 'factorize', input: { number: '12' }, callbackUrl: 'ftp://x.test/' }, 'body.callbackUrl'],
    [
      { kind: 'factorize', input: { number: '12' }, callbackUrl: 'https://user:pw@x.test/' },
      'body.callbackUrl',
    ],
  ])('refuses %j naming %s', async (body, path) => {
    const response = await request(port, 'POST', '/v1/jobs', body);
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('refuses a kind no worker registered with 422 listing the known kinds', async () => {
    const response = await request(port, 'POST', '/v1/jobs', { kind: 'nope', input: {} });
    expect(response.status).toBe(422);
    expect(response.body.error).toMatchObject({
      code: 'unknown_kind',
      details: [{ path: 'body.kind', message: 'must be one of: csv-sum, factorize, image-resize' }],
    });
  });

  it('returns the existing job for a repeated customId, 409 for a different request with it', async () => {
    const body = { kind: 'factorize', input: { number: '360' }, customId: 'order-1' };
    const first = await request(port, 'POST', '/v1/jobs', body);
    const repeat = await request(port, 'POST', '/v1/jobs', body);
    expect(first.status).toBe(202);
    expect(repeat.status).toBe(200);
    expect(repeat.body.id).toBe(first.body.id);
    const conflict = await request(port, 'POST', '/v1/jobs', { ...body, input: { number: '361' } });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toMatchObject({
      code: 'custom_id_conflict',
      message: expect.stringContaining(first.body.id),
    });
  });

  it('creates one job for concurrent identical requests', async () => {
    const body = { kind: 'factorize', input: { number: '1001' }, customId: 'race-1' };
    const responses = await Promise.all(
      Array.from({ length: 12 }, () => request(port, 'POST', '/v1/jobs', body)),
    );
    expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
    expect(responses.filter((r) => r.status === 202)).toHaveLength(1);
    expect(responses.filter((r) => r.status === 200)).toHaveLength(11);
  });

  it('answers each of many concurrent submissions (group commit) only once its own job is committed', async () => {
    const reader = createDatabase({
      url: TEST_DATABASE_URL,
      schema: isolated.env.DATABASE_SCHEMA!,
      poolMax: 2,
      log: silentLogger(),
    });
    try {
      const committedWhenAnswered = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const { status, body } = await request(port, 'POST', '/v1/jobs', {
            kind: 'factorize',
            input: { number: String(1000 + i) },
          });
          expect(status).toBe(202);
          // Read on another connection the moment the 202 arrives: the row must already be there.
          const row = await reader.db
            .selectFrom('jobs')
            .select(['id', 'input'])
            .where('id', '=', body.id)
            .executeTakeFirst();
          return row?.input;
        }),
      );
      expect(committedWhenAnswered).toEqual(
        Array.from({ length: 40 }, (_, i) => ({ number: String(1000 + i) })),
      );
    } finally {
      await reader.close();
    }
  });

  it('settles concurrent requests sharing a customId with different bodies: one job, the same request 200, the others 409', async () => {
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        request(port, 'POST', '/v1/jobs', {
          kind: 'factorize',
          input: { number: String(2000 + (i % 2)) },
          customId: 'race-2',
        }),
      ),
    );
    const created = responses.filter((r) => r.status === 202);
    expect(created).toHaveLength(1);
    const winner = created[0]!.body;
    for (const [i, r] of responses.entries()) {
      if (r.status === 202) continue;
      if (String(2000 + (i % 2)) === winner.input.number)
        expect(r).toMatchObject({ status: 200, body: { id: winner.id } });
      else expect(r).toMatchObject({ status: 409, body: { error: { code: 'custom_id_conflict' } } });
    }
  });

  it('finds a job by customId, filters and pages through the list with a cursor', async () => {
    for (let i = 0; i < 7; i++)
      await request(port, 'POST', '/v1/jobs', {
        kind: 'factorize',
        input: { number: String(100 + i) },
        customId: `page-${i}`,
      });
    const byCustomId = await request(port, 'GET', '/v1/jobs?customId=page-3');
    expect(byCustomId.body.jobs.map((j: { input: unknown }) => j.input)).toEqual([{ number: '103' }]);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: { jobs: { id: string }[]; nextCursor: string | null } } = await request(
        port,
        'GET',
        `/v1/jobs?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.jobs.length).toBeLessThanOrEqual(3);
      seen.push(...page.body.jobs.map((j) => j.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    const all = await request(port, 'GET', '/v1/jobs?limit=100');
    expect(seen).toEqual(all.body.jobs.map((j: { id: string }) => j.id));
    expect(new Set(seen).size).toBe(seen.length);

    await waitFor(
      'all finished',
      async () => (await request(port, 'GET', '/v1/stats')).body.inProgress === 0,
    );
    const succeeded = await request(port, 'GET', '/v1/jobs?status=succeeded&kind=factorize&limit=100');
    expect(succeeded.body.jobs.length).toBe(all.body.jobs.length);
    expect((await request(port, 'GET', '/v1/jobs?status=bogus')).status).toBe(400);
    expect((await request(port, 'GET', '/v1/jobs?cursor=not-a-cursor')).status).toBe(400);
  });

  it('counts jobs per status and kind', async () => {
    const { body } = await request(port, 'GET', '/v1/stats');
    expect(body.byStatus.succeeded).toBeGreaterThan(10);
    expect(body.byKind.factorize.succeeded).toBe(body.byStatus.succeeded);
    expect(body.inProgress).toBe(body.byStatus.queued + body.byStatus.running);
  });

  it('answers 404 for unknown and malformed ids', async () => {
    expect((await request(port, 'GET', '/v1/jobs/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await request(port, 'GET', '/v1/jobs/not-a-uuid')).status).toBe(404);
    expect((await request(port, 'DELETE', '/v1/jobs/not-a-uuid')).status).toBe(404);
  });

  it('serves the OpenAPI document generated from the contracts, and the docs page', async () => {
    const { status, body } = await request(port, 'GET', '/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    expect(body.paths['/v1/jobs'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/JobSubmission',
    });
    // image-resize jobs are uploaded (POST /v1/images), not submitted as JSON.
    expect(
      body.components.schemas.JobSubmission.oneOf.map((variant: { title: string }) => variant.title),
    ).toEqual(['factorize', 'csv-sum']);
    for (const path of [
      '/v1/images',
      '/v1/jobs/{id}/result',
      '/v1/jobs/{id}/deliveries',
      '/tasks',
      '/tasks/active',
      '/api/v1/images/resize',
    ])
      expect(body.paths[path]).toBeDefined();
    expect(body.paths['/v1/jobs/{id}'].delete).toBeDefined();
    const docs = await fetch(`http://127.0.0.1:${port}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger-ui/i);
  });
});

describe('jobs API with authentication on', () => {
  let migrated: MigratedDatabase;
  let producer: ReturnType<typeof producerApp>;
  let database: DatabaseHandle;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    migrated = await migratedDatabase('jobsauth', { poolMax: 1 });
    database = migrated.database;
    producer = producerApp({ ...migrated.isolated.env, AUTH_ENABLED: 'true' });
    await producer.start();
    alice = (await createApiClient(database.db, 'alice')).apiKey;
    bob = (await createApiClient(database.db, 'bob')).apiKey;
  });

  afterAll(async () => {
    await producer.stop();
    await migrated.dispose();
  });

  const as = (key: string) => ({ authorization: `Bearer ${key}` });

  it('refuses requests without a valid key', async () => {
    expect((await request(producer.port, 'GET', '/v1/jobs')).status).toBe(401);
    const bad = await request(producer.port, 'GET', '/v1/jobs', undefined, { authorization: 'Bearer nope' });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('unauthorized');
  });

  it("never shows one client another client's job (404, not 403)", async () => {
    const job = await request(
      producer.port,
      'POST',
      '/v1/jobs',
      { kind: 'factorize', input: { number: '99' }, customId: 'shared-id' },
      as(alice),
    );
    expect(job.status).toBe(202);
    expect(
      (await request(producer.port, 'GET', `/v1/jobs/${job.body.id}`, undefined, as(alice))).status,
    ).toBe(200);
    expect((await request(producer.port, 'GET', `/v1/jobs/${job.body.id}`, undefined, as(bob))).status).toBe(
      404,
    );
    expect(
      (await request(producer.port, 'DELETE', `/v1/jobs/${job.body.id}`, undefined, as(bob))).status,
    ).toBe(404);
    expect((await request(producer.port, 'GET', `/get/${job.body.id}`, undefined, as(bob))).status).toBe(404);
    expect((await request(producer.port, 'GET', '/v1/jobs', undefined, as(bob))).body.jobs).toEqual([]);
    // customIds are per client: bob's own "shared-id" is a new job, not alice's.
    const bobs = await request(
      producer.port,
      'POST',
      '/v1/jobs',
      { kind: 'factorize', input: { number: '98' }, customId: 'shared-id' },
      as(bob),
    );
    expect(bobs.status).toBe(202);
    expect(bobs.body.id).not.toBe(job.body.id);
  });
});
