import { TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import { scrape, sumOf } from '../metrics/prometheus-text.js';
import { Receiver } from '../webhooks/receiver.js';
import {
  WEBHOOK_SECRET,
  cleanupApp,
  createIsolatedEnv,
  jobFinished,
  request,
  startServices,
  type IsolatedEnv,
  type Services,
} from '../harness.js';

/** Delayed jobs through the API: validation, scheduled until due, listed, cancelled, started on time. */
describe('delayed jobs', () => {
  let isolated: IsolatedEnv;
  let services: Services;
  let cleanup: ReturnType<typeof cleanupApp>;
  let db: pg.Client;
  let port: number;
  const receiver = new Receiver();

  beforeAll(async () => {
    isolated = await createIsolatedEnv('delayed');
    await receiver.start();
    services = await startServices(
      { ...isolated.env, WEBHOOK_SECRET, WEBHOOK_ALLOW_LOOPBACK: 'true' },
      { notifier: true },
    );
    ({ port } = services);
    cleanup = cleanupApp({ ...isolated.env, PROMOTE_INTERVAL_MS: '250' });
    await cleanup.start();
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await cleanup.stop();
    await services.stop();
    await receiver.stop();
    await db.end();
    await isolated.dispose();
  });

  const submit = (body: Record<string, unknown>) =>
    request(port, 'POST', '/v1/jobs', { kind: 'factorize', input: { number: '1234' }, ...body });
  const eventsOf = async (id: string) =>
    (
      await db.query<{ status: string; occurred_at: Date }>(
        `select status, occurred_at from "${isolated.schema}".job_events where job_id = $1 order by sequence`,
        [id],
      )
    ).rows;

  it.each([
    [{ runAt: '2026-12-08T10:00:00Z', delayMs: 1000 }, 'body.delayMs', 'run_at_conflict'],
    [{ delayMs: 400 * 86_400_000 }, 'body.delayMs', 'delay_too_long'],
    [{ runAt: new Date(Date.now() + 400 * 86_400_000).toISOString() }, 'body.runAt', 'delay_too_long'],
    [{ runAt: 'tomorrow' }, 'body.runAt', 'validation_failed'],
    [{ runAt: '2026-12-08T10:00:00' }, 'body.runAt', 'validation_failed'], // no offset
    [{ delayMs: -1 }, 'body.delayMs', 'validation_failed'],
    [{ delayMs: 1.5 }, 'body.delayMs', 'validation_failed'],
  ])('refuses %j with a 400 naming %s', async (fields, path, code) => {
    const response = await submit(fields);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe(code);
    expect(response.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it('keeps a job scheduled and listed until its runAt, then starts it within a second of it', async () => {
    const runAt = new Date(Date.now() + 2_500);
    const submitted = await submit({ runAt: runAt.toISOString(), customId: 'later-1' });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ status: 'scheduled', runAt: runAt.toISOString(), attempts: 0 });
    expect(Number(submitted.headers.get('retry-after'))).toBeGreaterThanOrEqual(2);

    const listed = await request(port, 'GET', '/v1/jobs?status=scheduled');
    expect(listed.body.jobs.map((j: { id: string }) => j.id)).toContain(submitted.body.id);
    const stats = await request(port, 'GET', '/v1/stats');
    expect(stats.body.byStatus.scheduled).toBeGreaterThanOrEqual(1);
    expect(stats.body.byKind.factorize.scheduled).toBeGreaterThanOrEqual(1);
    // No work message exists for it yet: only the promoter will write one.
    const { rows: outbox } = await db.query(`select 1 from "${isolated.schema}".outbox`);
    expect(outbox).toHaveLength(0);

    const job = await jobFinished(port, submitted.body.id);
    expect(job.status).toBe('succeeded');
    const lateMs = Date.parse(job.startedAt) - runAt.getTime();
    expect(lateMs).toBeGreaterThanOrEqual(0);
    expect(lateMs).toBeLessThan(1_000);
    const events = await eventsOf(job.id);
    expect(events.map((e) => e.status)).toEqual(['scheduled', 'queued', 'succeeded']);
    expect(events[1]!.occurred_at.getTime()).toBeGreaterThanOrEqual(runAt.getTime());
    // Its queue wait counts from its runAt, not from its creation 2.5 s before.
    const { samples } = await scrape(services.consumer.opsPort);
    const waits = (le: string) =>
      sumOf(samples, 'conveyor_job_queue_wait_seconds_bucket', { kind: 'factorize', le });
    expect(waits('+Inf')).toBe(1);
    expect(waits('1')).toBe(1);
  });

  it('pushes the scheduled, queued and final statuses to the callbackUrl, in order', async () => {
    const submitted = await submit({
      delayMs: 1_000,
      callbackUrl: `http://127.0.0.1:${receiver.port}/hook`,
    });
    expect(submitted.body.status).toBe('scheduled');
    const statuses = await waitFor('the succeeded webhook', () => {
      const mine = receiver.received.filter((w) => w.payload.jobId === submitted.body.id);
      return mine.some((w) => w.payload.status === 'succeeded') ? mine : undefined;
    });
    expect(statuses.map((w) => [w.payload.sequence, w.payload.status])).toEqual([
      [1, 'scheduled'],
      [2, 'queued'],
      [3, 'succeeded'],
    ]);
  });

  it('runs a job whose delayMs is 0 or whose runAt has passed at once, through the usual path', async () => {
    const past = await submit({ runAt: '2020-01-01T00:00:00+01:00' });
    const zero = await submit({ delayMs: 0 });
    for (const { body } of [past, zero]) expect(body.status).toBe('queued');
    expect(past.body.runAt).toBe('2019-12-31T23:00:00.000Z');
    for (const { body } of [past, zero]) expect((await jobFinished(port, body.id)).status).toBe('succeeded');
    expect((await eventsOf(zero.body.id)).map((e) => e.status)).toEqual(['queued', 'succeeded']);
  });

  it('cancels a scheduled job at once (200), and it never runs', async () => {
    const cancelledOne = await submit({ delayMs: 1_500 });
    const witness = await submit({ delayMs: 1_500 });
    const cancelled = await request(port, 'DELETE', `/v1/jobs/${cancelledOne.body.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', attempts: 0 });
    // The witness, due at the same moment, has run: the promoter has been past the cancelled one.
    expect((await jobFinished(port, witness.body.id)).status).toBe('succeeded');
    const after = await request(port, 'GET', `/v1/jobs/${cancelledOne.body.id}`);
    expect(after.body).toMatchObject({ status: 'cancelled', attempts: 0, startedAt: null });
    expect((await eventsOf(cancelledOne.body.id)).map((e) => e.status)).toEqual(['scheduled', 'cancelled']);
    // Cancelling again is a no-op answer, not an error.
    expect((await request(port, 'DELETE', `/v1/jobs/${cancelledOne.body.id}`)).status).toBe(200);
  });

  it('leaves scheduled jobs to the promoter, not to the stuck-job repair', async () => {
    const far = await submit({ delayMs: 3_600_000 });
    await db.query(
      `update "${isolated.schema}".jobs set updated_at = now() - interval '1 day' where id = $1`,
      [far.body.id],
    );
    const repair = cleanupApp({ ...isolated.env, JOB_ROUTINE_INTERVAL_MS: '50', STUCK_JOB_AFTER_MS: '1000' });
    await repair.start();
    try {
      // The repair routine has run passes (it logs nothing for none): wait for a stuck queued job it must repair.
      const { body: stuck } = await submit({});
      await jobFinished(port, stuck.id);
      await db.query(
        `update "${isolated.schema}".jobs set status = 'queued', updated_at = now() - interval '1 day' where id = $1`,
        [stuck.id],
      );
      await waitFor('the repair routine has handed the stuck job back', async () => {
        const { rows } = await db.query<{ updated_at: Date }>(
          `select updated_at from "${isolated.schema}".jobs where id = $1`,
          [stuck.id],
        );
        return rows[0]!.updated_at.getTime() > Date.now() - 60_000;
      });
    } finally {
      await repair.stop();
    }
    const { rows } = await db.query<{ status: string; updated_at: Date }>(
      `select status, updated_at from "${isolated.schema}".jobs where id = $1`,
      [far.body.id],
    );
    expect(rows[0]!.status).toBe('scheduled');
    expect(rows[0]!.updated_at.getTime()).toBeLessThan(Date.now() - 3_600_000);
  });
});
