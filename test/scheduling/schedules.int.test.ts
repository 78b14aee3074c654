import { createDatabase, type DatabaseHandle } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import { TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import { createApiClient, revokeApiClient } from '../../services/producer/src/auth/api-client.repository.js';
import {
  cleanupApp,
  consumerApp,
  createIsolatedEnv,
  producerApp,
  request,
  SLOW_SEMIPRIME,
  type IsolatedEnv,
} from '../harness.js';

interface TickJob {
  id: string;
  tick: string;
  status: string;
  createdAt: Date;
  finishedAt: Date | null;
}

/** Recurring jobs through the API, with authentication on: each client sees only its own schedules. */
describe('schedules', () => {
  let isolated: IsolatedEnv;
  let database: DatabaseHandle;
  const apps: { stop(): Promise<void> }[] = [];
  let port: number;
  let alice: Record<string, string>;
  let bob: Record<string, string>;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('schedules');
    const env = { ...isolated.env, AUTH_ENABLED: 'true' };
    const producer = producerApp(env);
    await producer.start();
    apps.push(producer);
    port = producer.port;
    database = createDatabase({
      url: TEST_DATABASE_URL,
      schema: isolated.schema,
      poolMax: 2,
      log: silentLogger(),
    });
    alice = { authorization: `Bearer ${(await createApiClient(database.db, 'alice')).apiKey}` };
    bob = { authorization: `Bearer ${(await createApiClient(database.db, 'bob')).apiKey}` };
    for (const app of [consumerApp(env), cleanupApp({ ...env, SCHEDULER_INTERVAL_MS: '100' })]) {
      await app.start();
      apps.push(app);
    }
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop();
    await database.close();
    await isolated.dispose();
  });

  const create = (body: Record<string, unknown>, as = alice) =>
    request(
      port,
      'POST',
      '/v1/schedules',
      { cron: '* * * * * *', kind: 'factorize', input: { number: '77' }, ...body },
      as,
    );
  /** The jobs a schedule's ticks made, oldest tick first. */
  const tickJobs = async (scheduleId: string): Promise<TickJob[]> => {
    const rows = await database.db
      .selectFrom('jobs')
      .select(['id', 'custom_id', 'status', 'created_at', 'finished_at'])
      .where('custom_id', 'like', `schedule:${scheduleId}:%`)
      .orderBy('custom_id')
      .execute();
    return rows.map((row) => ({
      id: row.id,
      tick: row.custom_id!.slice(`schedule:${scheduleId}:`.length),
      status: row.status,
      createdAt: row.created_at,
      finishedAt: row.finished_at,
    }));
  };
  const atLeastJobs = (scheduleId: string, count: number) =>
    waitFor(`${count} jobs of schedule ${scheduleId}`, async () => {
      const jobs = await tickJobs(scheduleId);
      return jobs.length >= count ? jobs : undefined;
    });

  it.each([
    [{ cron: '61 * * * *' }, 422, 'invalid_cron', 'body.cron', /Invalid value for minute: 61/],
    [{ cron: 'every minute' }, 422, 'invalid_cron', 'body.cron', /./],
    [{ cron: '0 0 30 2 *' }, 422, 'invalid_cron', 'body.cron', /never comes/],
    [{ timezone: 'Mars/Olympus' }, 422, 'invalid_timezone', 'body.timezone', /IANA/],
    [{ kind: 'nope' }, 422, 'unknown_kind', 'body.kind', /must be one of/],
    [{ input: { number: '-3' } }, 400, 'invalid_number', 'body.input.number', /negative/],
    [{ overlap: 'sometimes' }, 400, 'validation_failed', 'body.overlap', /./],
    [{ catchUp: 'all' }, 400, 'validation_failed', 'body.catchUp', /./],
    [{ kind: 'image-resize', input: {} }, 400, 'use_image_upload', 'body.kind', /./],
    [{ callbackUrl: 'ftp://x.test/' }, 400, 'invalid_callback_url', 'body.callbackUrl', /./],
  ])('refuses %j with %i %s naming the field', async (fields, status, code, path, message) => {
    const response = await create(fields);
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    const detail = response.body.error.details.find((d: { path: string }) => d.path === path);
    expect(detail?.message).toMatch(message);
  });

  it('documents the routes and the new status in /openapi.json', async () => {
    const { body: document } = await request(port, 'GET', '/openapi.json');
    for (const path of [
      '/v1/schedules',
      '/v1/schedules/{id}',
      '/v1/schedules/{id}/pause',
      '/v1/schedules/{id}/resume',
    ])
      expect(document.paths).toHaveProperty([path]);
    // Shared schemas are components, referred to by $ref.
    const resolve = (schema: { $ref?: string }) =>
      schema.$ref === undefined ? schema : document.components.schemas[schema.$ref.split('/').pop()!];
    const statusParam = document.paths['/v1/jobs'].get.parameters.find(
      (p: { name: string }) => p.name === 'status',
    );
    expect(resolve(statusParam.schema).enum).toContain('scheduled');
    const submit = resolve(document.paths['/v1/jobs'].post.requestBody.content['application/json'].schema);
    const envelope = resolve(submit.oneOf[0].allOf[0]);
    expect(Object.keys(envelope.properties)).toEqual(expect.arrayContaining(['runAt', 'delayMs']));
    const job = resolve(
      document.paths['/v1/jobs/{id}'].get.responses[200].content['application/json'].schema,
    );
    expect(job.properties).toHaveProperty('runAt');
  });

  it('shows a client only its own schedules', async () => {
    const created = await create({ cron: '0 3 * * *', timezone: 'Europe/Berlin', customId: 'nightly' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/schedules/${created.body.id}`);
    expect(created.body).toMatchObject({ paused: false, overlap: 'skip', catchUp: 'none', lastJobId: null });
    expect(created.body.nextRunTimes).toHaveLength(5);
    // 03:00 in Berlin is 02:00Z in winter.
    expect(created.body.nextRunTimes[0]).toMatch(/T02:00:00\.000Z$/);
    expect(created.body.nextRunAt).toBe(created.body.nextRunTimes[0]);

    const again = await create({ cron: '0 3 * * *', timezone: 'Europe/Berlin', customId: 'nightly' });
    expect(again).toMatchObject({ status: 200, body: { id: created.body.id } });
    const conflict = await create({ cron: '0 4 * * *', timezone: 'Europe/Berlin', customId: 'nightly' });
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'custom_id_conflict' } } });

    const id = created.body.id;
    expect((await request(port, 'GET', `/v1/schedules/${id}`, undefined, bob)).status).toBe(404);
    expect((await request(port, 'POST', `/v1/schedules/${id}/pause`, undefined, bob)).status).toBe(404);
    expect((await request(port, 'DELETE', `/v1/schedules/${id}`, undefined, bob)).status).toBe(404);
    expect((await request(port, 'GET', '/v1/schedules', undefined, bob)).body.schedules).toEqual([]);
    const listed = await request(port, 'GET', '/v1/schedules', undefined, alice);
    expect(listed.body.schedules.map((s: { id: string }) => s.id)).toContain(id);
    expect((await request(port, 'GET', '/v1/schedules')).status).toBe(401);
    expect((await request(port, 'DELETE', `/v1/schedules/${id}`, undefined, alice)).status).toBe(204);
    expect((await request(port, 'GET', `/v1/schedules/${id}`, undefined, alice)).status).toBe(404);
  });

  it('makes one job per tick; pause stops the ticks, resume continues, delete stops them for good', async () => {
    const { body: schedule } = await create({ overlap: 'allow' });
    // A second schedule keeps ticking throughout: its jobs prove scheduler passes ran meanwhile.
    const { body: witness } = await create({ overlap: 'allow', input: { number: '78' } });
    const witnessPasses = async (ticks: number) => {
      const seen = (await tickJobs(witness.id)).length;
      await atLeastJobs(witness.id, seen + ticks);
    };

    const first = await atLeastJobs(schedule.id, 3);
    const seconds = first.map((job) => Date.parse(job.tick) / 1000);
    expect(seconds).toEqual(seconds.map((_, i) => seconds[0]! + i)); // consecutive ticks, none twice
    for (const job of first) expect(job.createdAt.getTime() - Date.parse(job.tick)).toBeLessThan(1_000);

    const paused = await request(port, 'POST', `/v1/schedules/${schedule.id}/pause`, undefined, alice);
    expect(paused.body).toMatchObject({ paused: true, nextRunTimes: [] });
    const atPause = (await tickJobs(schedule.id)).length;
    await witnessPasses(3);
    // One pass may have been under way when the pause committed; nothing after it.
    expect((await tickJobs(schedule.id)).length).toBeLessThanOrEqual(atPause + 1);
    const beforeResume = await tickJobs(schedule.id);

    const resumedAt = Date.now();
    const resumed = await request(port, 'POST', `/v1/schedules/${schedule.id}/resume`, undefined, alice);
    expect(resumed.body.paused).toBe(false);
    expect(Date.parse(resumed.body.nextRunAt)).toBeGreaterThan(resumedAt - 1_000);
    const afterResume = await atLeastJobs(schedule.id, beforeResume.length + 2);
    const newTicks = afterResume.slice(beforeResume.length).map((job) => Date.parse(job.tick));
    // The ticks that fell in the pause were not caught up.
    for (const tick of newTicks) expect(tick).toBeGreaterThan(resumedAt - 1_000);

    expect((await request(port, 'DELETE', `/v1/schedules/${schedule.id}`, undefined, alice)).status).toBe(
      204,
    );
    const atDelete = (await tickJobs(schedule.id)).length;
    await witnessPasses(3);
    expect((await tickJobs(schedule.id)).length).toBeLessThanOrEqual(atDelete + 1);
    await request(port, 'DELETE', `/v1/schedules/${witness.id}`, undefined, alice);

    // Every job a tick made ran once, as any job does.
    await waitFor('every tick job finished', async () =>
      (await tickJobs(schedule.id)).every((job) => job.status === 'succeeded'),
    );
    const shown = await request(port, 'GET', `/v1/jobs/${afterResume[0]!.id}`, undefined, alice);
    expect(shown.body).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      customId: `schedule:${schedule.id}:${afterResume[0]!.tick}`,
    });
  });

  it('pauses the schedules of a revoked client, which could no longer pause or delete them', async () => {
    const carol = await createApiClient(database.db, 'carol');
    const { body: schedule } = await create(
      { overlap: 'allow' },
      { authorization: `Bearer ${carol.apiKey}` },
    );
    await atLeastJobs(schedule.id, 1);
    expect(await revokeApiClient(database.db, carol.id)).toMatchObject({ outcome: 'revoked' });
    await waitFor('the schedule paused', async () => {
      const row = await database.db
        .selectFrom('schedules')
        .select('paused')
        .where('id', '=', schedule.id)
        .executeTakeFirstOrThrow();
      return row.paused;
    });
    const atPause = (await tickJobs(schedule.id)).length;
    // Another schedule's ticks show scheduler passes have run since.
    const { body: witness } = await create({ overlap: 'allow', input: { number: '79' } });
    await atLeastJobs(witness.id, 3);
    await request(port, 'DELETE', `/v1/schedules/${witness.id}`, undefined, alice);
    expect((await tickJobs(schedule.id)).length).toBe(atPause);
  });

  it('overlap skip: no job while the previous one is still running', async () => {
    const { body: schedule } = await create({ overlap: 'skip', input: { number: SLOW_SEMIPRIME.n } });
    const jobs = await waitFor(
      'a second job of the slow schedule',
      async () => {
        const found = await tickJobs(schedule.id);
        return found.length >= 2 ? found : undefined;
      },
      { timeoutMs: 30_000 },
    );
    await request(port, 'DELETE', `/v1/schedules/${schedule.id}`, undefined, alice);
    const [firstJob, secondJob] = jobs;
    expect(firstJob!.finishedAt).not.toBeNull();
    // The second was created only once the first had finished, several ticks later.
    expect(secondJob!.createdAt.getTime()).toBeGreaterThanOrEqual(firstJob!.finishedAt!.getTime());
    expect(Date.parse(secondJob!.tick) - Date.parse(firstJob!.tick)).toBeGreaterThanOrEqual(2_000);
    const shown = await request(port, 'GET', `/v1/schedules/${schedule.id}`, undefined, alice);
    expect(shown.status).toBe(404);
  });
});
