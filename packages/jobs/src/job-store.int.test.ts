import { JobEvent, MessageEnvelope, topologyNames, type JobStatus } from '@conveyor/contracts';
import { createDatabase, migrateToLatest, sql, type DatabaseHandle, type OutboxMessage } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import { createIsolatedEnv, TEST_DATABASE_URL, type IsolatedEnv } from '@conveyor/testkit';
import { jobEventOf } from './job-messages.js';
import { JobStore, type NewJob } from './job-store.js';

/** Every job change is one statement: the row, its event and its outbox message, all or nothing. */
describe('JobStore', () => {
  let isolated: IsolatedEnv;
  let database: DatabaseHandle;
  let store: JobStore;
  const names = topologyNames('jobstore-test');

  beforeAll(async () => {
    isolated = await createIsolatedEnv('jobstore');
    database = createDatabase({ url: TEST_DATABASE_URL, schema: isolated.schema, poolMax: 4, log: silentLogger() });
    await migrateToLatest(database.db, isolated.schema, silentLogger());
    store = new JobStore(database.db, names);
  });

  afterAll(async () => {
    await database.close();
    await isolated.dispose();
  });

  const newJob = (customId: string | null = null): NewJob => ({
    clientId: 'default',
    kind: 'factorize',
    customId,
    requestHash: 'h',
    input: { number: '6' },
    callbackUrl: 'http://example.test/hook',
  });

  const eventsOf = (jobId: string) => database.db.selectFrom('job_events').selectAll().where('job_id', '=', jobId).orderBy('sequence').execute();
  const outboxRows = (ids: string[]) => (ids.length ? database.db.selectFrom('outbox').selectAll().where('id', 'in', ids).orderBy('id').execute() : Promise.resolve([]));
  const outboxCount = async () => Number((await database.db.selectFrom('outbox').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);

  /** The returned messages are the committed rows. */
  async function expectCommitted(outbox: OutboxMessage[]): Promise<void> {
    const rows = await outboxRows(outbox.map((m) => m.id));
    expect(rows.map((r) => ({ id: r.id, exchange: r.exchange, routingKey: r.routing_key, messageId: r.message_id, correlationId: r.correlation_id, type: r.type, body: r.body }))).toEqual(
      outbox.map((m) => ({ ...m, body: m.body.toString('utf8') })),
    );
  }

  /** The event message is what jobEventMessage would build from the committed job and event rows. */
  async function expectEventMessage(message: OutboxMessage, jobId: string, status: JobStatus, correlationId: string): Promise<void> {
    const job = (await store.get(jobId))!;
    const event = (await eventsOf(jobId)).at(-1)!;
    expect(event).toMatchObject({ sequence: job.sequence, status });
    const envelope = MessageEnvelope.parse(JSON.parse(message.body.toString('utf8')));
    expect(envelope).toMatchObject({ kind: 'job.event', version: 1, attempt: 0, correlationId });
    expect(envelope.messageId).not.toBe(event.event_id);
    expect(JobEvent.parse(envelope.payload)).toEqual(jobEventOf(job, event.event_id, event.occurred_at));
    expect(message).toMatchObject({ exchange: names.eventsExchange, routingKey: `job.factorize.${status}`, messageId: event.event_id, correlationId, type: 'job.event' });
  }

  it('creates a job with its first event, its work message and its event message', async () => {
    const { job, outbox, created } = await store.create(newJob(), 'corr-create');
    expect(created).toBe(true);
    expect(job).toMatchObject({ status: 'queued', sequence: 1, kind: 'factorize', input: { number: '6' }, attempts: 0 });
    expect(await eventsOf(job.id)).toHaveLength(1);
    expect(outbox).toHaveLength(2);
    await expectCommitted(outbox);
    const [work, event] = outbox;
    expect(work).toMatchObject({ exchange: names.workExchange, routingKey: names.routingKey('job.factorize'), type: 'job.factorize', correlationId: 'corr-create' });
    expect(MessageEnvelope.parse(JSON.parse(work!.body.toString('utf8')))).toMatchObject({ kind: 'job.factorize', payload: { jobId: job.id } });
    await expectEventMessage(event!, job.id, 'queued', 'corr-create');
  });

  it('returns the existing job for a repeated customId and writes nothing', async () => {
    const first = await store.create(newJob('same'), 'c1');
    const before = await outboxCount();
    const again = await store.create({ ...newJob('same'), input: { number: '10' } }, 'c2');
    expect(again).toEqual({ job: first.job, outbox: [], created: false });
    expect(await outboxCount()).toBe(before);
    expect(await eventsOf(first.job.id)).toHaveLength(1);
  });

  it('records one event and one outbox message per transition, with matching sequence and event id', async () => {
    const { job } = await store.create(newJob(), 'c');
    const started = await store.transition(job.id, 'running', { incrementAttempts: true, startedAt: new Date(), error: { code: 'x', message: 'earlier' } }, 'c-run');
    expect(started!.job).toMatchObject({ status: 'running', sequence: 2, attempts: 1, error: { code: 'x', message: 'earlier' } });
    expect(started!.outbox).toHaveLength(1);
    await expectCommitted(started!.outbox);
    await expectEventMessage(started!.outbox[0]!, job.id, 'running', 'c-run');

    const progressed = await store.reportProgress(job.id, { fraction: 0.25, message: 'a quarter' }, 'c-progress');
    await expectEventMessage(progressed!.outbox[0]!, job.id, 'running', 'c-progress');

    const finishedAt = new Date();
    const done = await store.transition(job.id, 'succeeded', { result: { factors: ['2', '3'] }, progress: { fraction: 1, message: null }, error: null, finishedAt, expiresAt: finishedAt }, 'c-done');
    expect(done!.job).toMatchObject({ status: 'succeeded', sequence: 4, result: { factors: ['2', '3'] }, error: null, finishedAt });
    await expectCommitted(done!.outbox);
    await expectEventMessage(done!.outbox[0]!, job.id, 'succeeded', 'c-done');
    expect((await eventsOf(job.id)).map((e) => [e.sequence, e.status])).toEqual([
      [1, 'queued'],
      [2, 'running'],
      [3, 'running'],
      [4, 'succeeded'],
    ]);
  });

  it('changes nothing on a disallowed transition or a missing job', async () => {
    const { job } = await store.create(newJob(), 'c');
    await store.transition(job.id, 'cancelled', { finishedAt: new Date() }, 'c');
    const before = { job: await store.get(job.id), events: await eventsOf(job.id), outbox: await outboxCount() };
    expect(await store.transition(job.id, 'running', { incrementAttempts: true }, 'c')).toBeUndefined();
    expect(await store.transition(job.id, 'succeeded', { result: { no: true } }, 'c')).toBeUndefined();
    expect(await store.transition('00000000-0000-4000-8000-000000000000', 'running', {}, 'c')).toBeUndefined();
    expect({ job: await store.get(job.id), events: await eventsOf(job.id), outbox: await outboxCount() }).toEqual(before);
  });

  describe('start', () => {
    it('starts a queued job', async () => {
      const { job } = await store.create(newJob(), 'c');
      const started = await store.start(job.id, 60_000, 'c');
      expect(started!.job).toMatchObject({ status: 'running', attempts: 1, sequence: 2 });
      expect(started!.job.startedAt).toBeInstanceOf(Date);
      await expectEventMessage(started!.outbox[0]!, job.id, 'running', 'c');
    });

    it('refuses a job running with a recent heartbeat, and restarts one whose runner went silent', async () => {
      const { job } = await store.create(newJob(), 'c');
      await store.start(job.id, 60_000, 'c');
      expect(await store.start(job.id, 60_000, 'c')).toBeUndefined();
      await database.db.updateTable('jobs').set({ updated_at: sql<Date>`now() - interval '2 minutes'` }).where('id', '=', job.id).execute();
      const restarted = await store.start(job.id, 60_000, 'c');
      expect(restarted!.job).toMatchObject({ status: 'running', attempts: 2, sequence: 3 });
    });

    it('refuses a job asked to cancel, or finished', async () => {
      const { job } = await store.create(newJob(), 'c');
      await database.db.updateTable('jobs').set({ cancel_requested: true }).where('id', '=', job.id).execute();
      expect(await store.start(job.id, 60_000, 'c')).toBeUndefined();
      const { job: other } = await store.create(newJob(), 'c');
      await store.transition(other.id, 'cancelled', { finishedAt: new Date() }, 'c');
      expect(await store.start(other.id, 0, 'c')).toBeUndefined();
      expect((await eventsOf(job.id)).map((e) => e.status)).toEqual(['queued']);
    });
  });
});
