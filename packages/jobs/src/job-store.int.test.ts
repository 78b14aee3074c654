import { isJobOfKind } from './job-catalog.js';
import { JobEvent, MessageEnvelope, topologyNames, type JobStatus } from '@conveyor/contracts';
import { sql, type DatabaseHandle, type OutboxMessage } from '@conveyor/database';
import { migratedDatabase, type MigratedDatabase } from '@conveyor/testkit';
import { jobEventOf } from './job-messages.js';
import { JobStore, type NewJob } from './job-store.js';

/** Every job change is one statement: the row, its event and its outbox message, all or nothing. */
describe('JobStore', () => {
  let migrated: MigratedDatabase;
  let database: DatabaseHandle;
  let store: JobStore;
  const names = topologyNames('jobstore-test');

  beforeAll(async () => {
    migrated = await migratedDatabase('jobstore');
    database = migrated.database;
    store = new JobStore(database.db, names);
  });

  afterAll(async () => {
    await migrated.dispose();
  });

  const newJob = (customId: string | null = null): NewJob => ({
    clientId: 'default',
    kind: 'factorize',
    customId,
    requestHash: 'h',
    input: { number: '6' },
    callbackUrl: 'http://example.test/hook',
  });

  /** A factorize result as the catalog types it (its factors are not checked here). */
  const resultOf = (i: number) => ({ factors: [String(i)], product: String(i), verified: true });

  const eventsOf = (jobId: string) =>
    database.db
      .selectFrom('job_events')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('sequence')
      .execute();
  const outboxRows = (ids: string[]) =>
    ids.length
      ? database.db.selectFrom('outbox').selectAll().where('id', 'in', ids).orderBy('id').execute()
      : Promise.resolve([]);
  const outboxCount = async () =>
    Number(
      (
        await database.db
          .selectFrom('outbox')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  /** The returned messages are the committed rows. */
  async function expectCommitted(outbox: OutboxMessage[]): Promise<void> {
    const rows = await outboxRows(outbox.map((m) => m.id));
    expect(
      rows.map((r) => ({
        id: r.id,
        exchange: r.exchange,
        routingKey: r.routing_key,
        messageId: r.message_id,
        correlationId: r.correlation_id,
        type: r.type,
        body: r.body,
      })),
    ).toEqual(outbox.map((m) => ({ ...m, body: m.body.toString('utf8') })));
  }

  /** The event message is what jobEventMessage would build from the committed job and event rows. */
  async function expectEventMessage(
    message: OutboxMessage,
    jobId: string,
    status: JobStatus,
    correlationId: string,
  ): Promise<void> {
    const job = (await store.get(jobId))!;
    const event = (await eventsOf(jobId)).at(-1)!;
    expect(event).toMatchObject({ sequence: job.sequence, status });
    const envelope = MessageEnvelope.parse(JSON.parse(message.body.toString('utf8')));
    expect(envelope).toMatchObject({ kind: 'job.event', version: 1, attempt: 0, correlationId });
    expect(envelope.messageId).not.toBe(event.event_id);
    expect(JobEvent.parse(envelope.payload)).toEqual(jobEventOf(job, event.event_id, event.occurred_at));
    expect(message).toMatchObject({
      exchange: names.eventsExchange,
      routingKey: `job.factorize.${status}`,
      messageId: event.event_id,
      correlationId,
      type: 'job.event',
    });
  }

  it('creates a job with its first event, its work message and its event message', async () => {
    const { job, outbox, created } = await store.create(newJob(), 'corr-create');
    expect(created).toBe(true);
    expect(job).toMatchObject({
      status: 'queued',
      sequence: 1,
      kind: 'factorize',
      input: { number: '6' },
      attempts: 0,
    });
    expect(await eventsOf(job.id)).toHaveLength(1);
    expect(outbox).toHaveLength(2);
    await expectCommitted(outbox);
    const [work, event] = outbox;
    expect(work).toMatchObject({
      exchange: names.workExchange,
      routingKey: names.routingKey('job.factorize'),
      type: 'job.factorize',
      correlationId: 'corr-create',
    });
    expect(MessageEnvelope.parse(JSON.parse(work!.body.toString('utf8')))).toMatchObject({
      kind: 'job.factorize',
      payload: { jobId: job.id },
    });
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
    const started = await store.transition(
      job.id,
      'running',
      { incrementAttempts: true, startedAt: new Date(), error: { code: 'x', message: 'earlier' } },
      'c-run',
    );
    expect(started!.job).toMatchObject({
      status: 'running',
      sequence: 2,
      attempts: 1,
      error: { code: 'x', message: 'earlier' },
    });
    expect(started!.outbox).toHaveLength(1);
    await expectCommitted(started!.outbox);
    await expectEventMessage(started!.outbox[0]!, job.id, 'running', 'c-run');

    const progressed = await store.reportProgress(
      job.id,
      { fraction: 0.25, message: 'a quarter' },
      'c-progress',
    );
    await expectEventMessage(progressed!.outbox[0]!, job.id, 'running', 'c-progress');

    const finishedAt = new Date();
    const done = await store.transition(
      job.id,
      'succeeded',
      {
        result: { factors: ['2', '3'], product: '6', verified: true },
        progress: { fraction: 1, message: null },
        error: null,
        finishedAt,
        expiresAt: finishedAt,
      },
      'c-done',
    );
    expect(done!.job).toMatchObject({
      status: 'succeeded',
      sequence: 4,
      result: { factors: ['2', '3'], product: '6', verified: true },
      error: null,
      finishedAt,
    });
    await expectCommitted(done!.outbox);
    await expectEventMessage(done!.outbox[0]!, job.id, 'succeeded', 'c-done');
    expect((await eventsOf(job.id)).map((e) => [e.sequence, e.status])).toEqual([
      [1, 'queued'],
      [2, 'running'],
      [3, 'running'],
      [4, 'succeeded'],
    ]);
  });

  it('reads a built-in kind typed by its schemas, and refuses a stored input that breaks them', async () => {
    const { job } = await store.create(newJob(), 'c');
    const read = await store.get(job.id);
    if (!read || !isJobOfKind(read, 'factorize')) throw new Error('expected a factorize job');
    const digits: string = read.input.number;
    expect(digits).toBe('6');
    await database.db
      .updateTable('jobs')
      .set({ input: JSON.stringify({ number: 6 }) })
      .where('id', '=', job.id)
      .execute();
    await expect(store.get(job.id)).rejects.toThrow(
      `job ${job.id}: stored input does not match the factorize schema (input.number: `,
    );
  });

  it('passes a registered kind’s input and result through as stored', async () => {
    const { job } = await store.create({ ...newJob(), kind: 'lomo', input: { strength: [1, 2] } }, 'c');
    await store.start(job.id, 60_000, 'c');
    const done = await store.transition(job.id, 'succeeded', { result: 'any JSON' }, 'c');
    expect(done!.job).toMatchObject({ kind: 'lomo', input: { strength: [1, 2] }, result: 'any JSON' });
  });

  it('changes nothing on a disallowed transition or a missing job', async () => {
    const { job } = await store.create(newJob(), 'c');
    await store.transition(job.id, 'cancelled', { finishedAt: new Date() }, 'c');
    const before = {
      job: await store.get(job.id),
      events: await eventsOf(job.id),
      outbox: await outboxCount(),
    };
    expect(await store.transition(job.id, 'running', { incrementAttempts: true }, 'c')).toBeUndefined();
    expect(await store.transition(job.id, 'succeeded', { result: { no: true } }, 'c')).toBeUndefined();
    expect(
      await store.transition('00000000-0000-4000-8000-000000000000', 'running', {}, 'c'),
    ).toBeUndefined();
    expect({
      job: await store.get(job.id),
      events: await eventsOf(job.id),
      outbox: await outboxCount(),
    }).toEqual(before);
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
      await database.db
        .updateTable('jobs')
        .set({ updated_at: sql<Date>`now() - interval '2 minutes'` })
        .where('id', '=', job.id)
        .execute();
      const restarted = await store.start(job.id, 60_000, 'c');
      expect(restarted!.job).toMatchObject({ status: 'running', attempts: 2, sequence: 3 });
    });

    it('refuses a job asked to cancel, or finished', async () => {
      const { job } = await store.create(newJob(), 'c');
      await database.db
        .updateTable('jobs')
        .set({ cancel_requested: true })
        .where('id', '=', job.id)
        .execute();
      expect(await store.start(job.id, 60_000, 'c')).toBeUndefined();
      const { job: other } = await store.create(newJob(), 'c');
      await store.transition(other.id, 'cancelled', { finishedAt: new Date() }, 'c');
      expect(await store.start(other.id, 0, 'c')).toBeUndefined();
      expect((await eventsOf(job.id)).map((e) => e.status)).toEqual(['queued']);
    });
  });

  /** Group commit: many callers' changes share a statement; each caller still gets its own outcome. */
  describe('batched', () => {
    let batched: JobStore;
    beforeAll(() => {
      batched = new JobStore(database.db, names, { batch: { maxItems: 50, maxWaitMs: 5 } });
    });

    it('commits every job of a batch before answering its caller, each with its own messages', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          batched.create({ ...newJob(), input: { number: String(i + 1) } }, `corr-${i}`),
        ),
      );
      expect(new Set(results.map((r) => r.job.id)).size).toBe(20);
      for (const [i, { job, outbox, created }] of results.entries()) {
        expect(created).toBe(true);
        expect(job.input).toEqual({ number: String(i + 1) });
        expect(await store.get(job.id)).toEqual(job); // committed: another connection reads it
        expect(outbox).toHaveLength(2);
        await expectCommitted(outbox);
        await expectEventMessage(outbox[1]!, job.id, 'queued', `corr-${i}`);
      }
    });

    it('creates one job for identical customIds in the same batch and in the next', async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => batched.create(newJob('batched-same'), 'c')),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.job.id)).size).toBe(1);
      expect(results.filter((r) => !r.created).every((r) => r.outbox.length === 0)).toBe(true);
      const again = await batched.create(newJob('batched-same'), 'c');
      expect(again).toMatchObject({ created: false, job: { id: results[0]!.job.id } });
    });

    it('fails only the caller whose item breaks the batch; the others commit', async () => {
      const results = await Promise.allSettled([
        batched.create(newJob(), 'ok-1'),
        batched.create({ ...newJob(), clientId: 'no-such-client' }, 'bad'),
        batched.create(newJob(), 'ok-2'),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      for (const result of results)
        if (result.status === 'fulfilled') expect(await store.get(result.value.job.id)).toBeDefined();
    });

    it('starts and finishes many jobs per statement, with events in order; a duplicate start in the same batch starts once', async () => {
      const jobs = await Promise.all(Array.from({ length: 10 }, () => batched.create(newJob(), 'c')));
      const ids = jobs.map((j) => j.job.id);
      const starts = await Promise.all([...ids, ids[0]!].map((id) => batched.start(id, 60_000, 'c')));
      expect(starts.slice(0, 10).every((s) => s?.job.status === 'running' && s.job.sequence === 2)).toBe(
        true,
      );
      expect(starts[10]).toBeUndefined();
      const finishedAt = new Date();
      const done = await Promise.all(
        ids.map((id, i) =>
          batched.transition(
            id,
            i % 2 ? 'succeeded' : 'failed',
            i % 2
              ? { result: resultOf(i), finishedAt }
              : { error: { code: 'boom', message: `job ${i}` }, finishedAt },
            `done-${i}`,
          ),
        ),
      );
      for (const [i, committed] of done.entries()) {
        expect(committed!.job).toMatchObject(
          i % 2
            ? { status: 'succeeded', result: resultOf(i), error: null }
            : { status: 'failed', error: { code: 'boom', message: `job ${i}` } },
        );
        await expectEventMessage(committed!.outbox[0]!, ids[i]!, i % 2 ? 'succeeded' : 'failed', `done-${i}`);
        expect((await eventsOf(ids[i]!)).map((e) => [e.sequence, e.status])).toEqual([
          [1, 'queued'],
          [2, 'running'],
          [3, i % 2 ? 'succeeded' : 'failed'],
        ]);
      }
      // Finished: a redelivered message cannot start it again, nor a stale writer change it.
      expect(await Promise.all(ids.map((id) => batched.start(id, 0, 'c')))).toEqual(ids.map(() => undefined));
      expect(await batched.transition(ids[1]!, 'running', {}, 'c')).toBeUndefined();
    });

    it('applies two changes of one job in one batch in the order they were made', async () => {
      const { job } = await batched.create(newJob(), 'c');
      await batched.start(job.id, 60_000, 'c');
      const [progressed, done] = await Promise.all([
        batched.reportProgress(job.id, { fraction: 0.5, message: 'half' }, 'c'),
        batched.transition(job.id, 'succeeded', { result: resultOf(6), finishedAt: new Date() }, 'c'),
      ]);
      expect([progressed!.job.sequence, done!.job.sequence]).toEqual([3, 4]);
      expect((await eventsOf(job.id)).map((e) => e.status)).toEqual([
        'queued',
        'running',
        'running',
        'succeeded',
      ]);
    });

    it('keeps working, prepared, when a migration adds a column to jobs while the service runs', async () => {
      const create = () => Promise.all(Array.from({ length: 8 }, () => store.create(newJob(), 'c')));
      await create(); // prepared on every pooled connection
      await sql`alter table jobs add column added_while_running integer`.execute(database.db);
      try {
        const created = await create();
        const started = await Promise.all(created.map(({ job }) => store.start(job.id, 60_000, 'c')));
        expect(started.every((s) => s?.job.status === 'running')).toBe(true);
      } finally {
        await sql`alter table jobs drop column added_while_running`.execute(database.db);
      }
    });
  });

  it('records every change of a job without a callbackUrl but publishes no event for it, unless events are `all`', async () => {
    const quiet = { ...newJob(), callbackUrl: null };
    const { job, outbox } = await store.create(quiet, 'c');
    expect(outbox.map((m) => m.exchange)).toEqual([names.workExchange]);
    const done = await store.startAndFinish(job.id, 'succeeded', { finishedAt: new Date() }, 60_000, 'c');
    expect(done!.outbox).toEqual([]);
    expect((await eventsOf(job.id)).map((e) => e.status)).toEqual(['queued', 'succeeded']);
    expect(await store.republishLatestEvent(done!.job, 'c')).toEqual([]);

    const everyEvent = new JobStore(database.db, names, { events: 'all' });
    const loud = await everyEvent.create(quiet, 'c-all');
    expect(loud.outbox.map((m) => m.exchange)).toEqual([names.workExchange, names.eventsExchange]);
    await expectEventMessage(loud.outbox[1]!, loud.job.id, 'queued', 'c-all');
  });

  it('starts and finishes a job in one change under the start guard, counting the attempt', async () => {
    const { job } = await store.create(newJob(), 'c');
    const startedAt = new Date(Date.now() - 5);
    const done = await store.startAndFinish(
      job.id,
      'succeeded',
      { result: resultOf(6), startedAt, finishedAt: new Date() },
      60_000,
      'c-quick',
    );
    expect(done!.job).toMatchObject({
      status: 'succeeded',
      sequence: 2,
      attempts: 1,
      startedAt,
      error: null,
    });
    await expectEventMessage(done!.outbox[0]!, job.id, 'succeeded', 'c-quick');
    // Finished: a second run's change (a duplicate message) is refused and writes nothing.
    expect(await store.startAndFinish(job.id, 'succeeded', {}, 60_000, 'c')).toBeUndefined();

    // Cancel requested, or running with a live runner: refused as a start would be.
    const cancelled = await store.create(newJob(), 'c');
    await database.db
      .updateTable('jobs')
      .set({ cancel_requested: true })
      .where('id', '=', cancelled.job.id)
      .execute();
    expect(await store.startAndFinish(cancelled.job.id, 'succeeded', {}, 60_000, 'c')).toBeUndefined();
    const busy = await store.create(newJob(), 'c');
    await store.start(busy.job.id, 60_000, 'c');
    expect(await store.startAndFinish(busy.job.id, 'failed', {}, 60_000, 'c')).toBeUndefined();
    // A retryable failure goes back to queued with its error, the attempt counted.
    const retried = await store.create(newJob(), 'c');
    const queued = await store.startAndFinish(
      retried.job.id,
      'queued',
      { error: { code: 'flaky', message: 'once' } },
      60_000,
      'c',
    );
    expect(queued!.job).toMatchObject({ status: 'queued', attempts: 1, error: { code: 'flaky' } });
  });

  it('reads jobs in batches by id (load), missing ones as undefined', async () => {
    const batched = new JobStore(database.db, names, { batch: { maxItems: 10, maxWaitMs: 1 } });
    const { job } = await store.create(newJob(), 'c');
    const [found, missing] = await Promise.all([
      batched.load(job.id),
      batched.load('00000000-0000-4000-8000-000000000000'),
    ]);
    expect(found).toEqual(await store.get(job.id));
    expect(missing).toBeUndefined();
  });
});
