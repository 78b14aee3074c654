import { topologyNames, type OutgoingMessage } from '@conveyor/contracts';
import type { DatabaseHandle } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import { migratedDatabase, waitFor, type MigratedDatabase } from '@conveyor/testkit';
import { JobStore, type NewJob } from '../job-store.js';
import { recoverExpiredDispatchers } from './dispatch-recovery.js';
import { JobDispatcher, type JobDispatcherOptions } from './job-dispatcher.js';

/**
 * The job row as the record of a work message still to send: published by the producer's
 * dispatcher without an outbox row, spilled to the outbox when the broker refuses it, and
 * re-sent by any other process once the dispatcher's lease has run out.
 */
describe('JobDispatcher', () => {
  let migrated: MigratedDatabase;
  let database: DatabaseHandle;
  const names = topologyNames('dispatch-test');
  const dispatchers: JobDispatcher[] = [];

  beforeAll(async () => {
    migrated = await migratedDatabase('dispatch');
    database = migrated.database;
  });

  afterAll(async () => {
    for (const dispatcher of dispatchers) await dispatcher.stop();
    await migrated.dispose();
  });

  const newJob: NewJob = {
    clientId: 'default',
    kind: 'factorize',
    customId: null,
    requestHash: 'h',
    input: { number: '6' },
    callbackUrl: null,
  };

  async function dispatcherWith(
    publish: (message: OutgoingMessage) => Promise<void>,
    options: Partial<JobDispatcherOptions> = {},
  ) {
    const dispatcher = new JobDispatcher(
      { db: database.db, names, publish, log: silentLogger() },
      { leaseMs: 60_000, renewMs: 50, ...options },
    );
    dispatchers.push(dispatcher);
    await dispatcher.start();
    return { dispatcher, store: new JobStore(database.db, names, { dispatcher }) };
  }

  const lease = (id: string) =>
    database.db.selectFrom('job_dispatchers').selectAll().where('id', '=', id).executeTakeFirst();
  const jobRow = (id: string) =>
    database.db
      .selectFrom('jobs')
      .select(['dispatcher', 'created_at'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  const outboxFor = async (jobIds: string[]) =>
    (await database.db.selectFrom('outbox').select('body').execute())
      .map((row) => (JSON.parse(row.body) as { payload: { jobId: string } }).payload.jobId)
      .filter((jobId) => jobIds.includes(jobId));
  const jobIdOf = (message: OutgoingMessage) =>
    (JSON.parse(message.body.toString('utf8')) as { payload: { jobId: string } }).payload.jobId;

  it('publishes a new job’s work message with no outbox row, and moves its watermark past the job once confirmed', async () => {
    const published: string[] = [];
    const { dispatcher, store } = await dispatcherWith(
      async (message) => void published.push(jobIdOf(message)),
    );
    const { job, outbox } = await store.create(newJob, 'c');
    expect(outbox).toEqual([]);
    expect((await jobRow(job.id)).dispatcher).toBe(dispatcher.id);
    await waitFor('published', () => published.includes(job.id));
    const { created_at: createdAt } = await jobRow(job.id);
    await waitFor(
      'watermark past the job',
      async () => (await lease(dispatcher.id))!.confirmed_before >= createdAt,
    );
    expect(await outboxFor([job.id])).toEqual([]);
  });

  it('spills a work message the broker does not confirm to the outbox', async () => {
    const { store } = await dispatcherWith(() => Promise.reject(new Error('broker unavailable')));
    const { job } = await store.create(newJob, 'c');
    await waitFor('spilled', async () => (await outboxFor([job.id])).length === 1);
  });

  it('re-sends the queued jobs a dispatcher never saw confirmed once its lease has run out, and only those', async () => {
    let failPending: (error: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (failPending = reject));
    failed.catch(() => undefined);
    let confirmFirst = true;
    const { dispatcher, store } = await dispatcherWith(() => {
      if (confirmFirst) return Promise.resolve();
      return failed; // never confirmed while the process lives
    });
    const confirmed = await store.create(newJob, 'c');
    // Past the recovery's clock margin, and a renewal that reads a newer database time.
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    confirmFirst = false;
    const lost = await store.create(newJob, 'c');
    const finishedMeanwhile = await store.create(newJob, 'c');
    await store.startAndFinish(finishedMeanwhile.job.id, 'succeeded', {}, 60_000, 'c');
    expect(await recoverExpiredDispatchers(database.db, names)).toEqual({ dispatchers: 0, jobs: 0 });

    // Stopping with publishes unconfirmed gives the lease up at once (as dying does after leaseMs).
    const stopping = dispatcher.stop();
    failPending(new Error('connection lost'));
    await stopping;
    expect(await recoverExpiredDispatchers(database.db, names)).toEqual({ dispatchers: 1, jobs: 1 });
    const ids = [confirmed.job.id, lost.job.id, finishedMeanwhile.job.id];
    expect(await outboxFor(ids)).toEqual([lost.job.id]);
    expect(await lease(dispatcher.id)).toBeUndefined();
  });

  it('uses the outbox while its lease row is gone (taken over), and takes the lease back at its next renewal', async () => {
    const published: string[] = [];
    const { dispatcher, store } = await dispatcherWith(
      async (message) => void published.push(jobIdOf(message)),
    );
    await database.db.deleteFrom('job_dispatchers').where('id', '=', dispatcher.id).execute();
    const { job, outbox } = await store.create(newJob, 'c');
    if ((await jobRow(job.id)).dispatcher === null) {
      expect(outbox.map((m) => m.exchange)).toEqual([names.workExchange]);
      expect(published).not.toContain(job.id);
    } // else the renewal came first: dispatched as usual
    await waitFor('lease back', async () => (await lease(dispatcher.id)) !== undefined);
    const after = await store.create(newJob, 'c');
    expect(after.outbox).toEqual([]);
    await waitFor('published', () => published.includes(after.job.id));
  });

  it('looks up an insert whose outcome it does not know: publishes it if it committed, else gives it up', async () => {
    const published: string[] = [];
    const { dispatcher } = await dispatcherWith(async (message) => void published.push(jobIdOf(message)));
    const plain = new JobStore(database.db, names);
    const committed = await plain.create(newJob, 'c');
    await database.db
      .updateTable('jobs')
      .set({ dispatcher: dispatcher.id })
      .where('id', '=', committed.job.id)
      .execute();
    const message = (id: string): OutgoingMessage => ({
      exchange: names.workExchange,
      routingKey: names.routingKey('job.factorize'),
      messageId: `m-${id}`,
      correlationId: 'c',
      type: 'job.factorize',
      body: Buffer.from(JSON.stringify({ payload: { jobId: id } })),
    });
    dispatcher.uncertain(dispatcher.take()!, committed.job.id, message(committed.job.id));
    const missing = '00000000-0000-4000-8000-000000000001';
    dispatcher.uncertain(dispatcher.take()!, missing, message(missing));
    await waitFor('the committed one published', () => published.includes(committed.job.id));
    await dispatcher.stop();
    expect(published).not.toContain(missing);
    // Nothing left unconfirmed: the lease is released rather than left to run out.
    expect(await lease(dispatcher.id)).toBeUndefined();
  });
});
