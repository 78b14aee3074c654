import {
  Broker,
  publishOutgoing,
  startMessageConsumer,
  workTopology,
  type ConsumerHandle,
} from '@conveyor/broker';
import { topologyNames } from '@conveyor/contracts';
import type { DatabaseHandle, OutboxMessage } from '@conveyor/database';
import { JobStore } from '@conveyor/jobs';
import { createMetrics, silentLogger, sleep } from '@conveyor/platform';
import {
  BrokerProbe,
  migratedDatabase,
  TEST_AMQP_URL,
  waitFor,
  type IsolatedEnv,
  type MigratedDatabase,
} from '@conveyor/testkit';
import { jobHandler, type JobWork, type WorkOutcome } from './job.consumer.js';

/** The job runner against the real broker and database, with work whose outcome the test decides. */
describe('job runner retries', () => {
  let migrated: MigratedDatabase;
  let isolated: IsolatedEnv;
  let database: DatabaseHandle;
  let broker: Broker;
  let store: JobStore;
  let probe: BrokerProbe;
  let consumer: ConsumerHandle | undefined;
  const metrics = createMetrics('test');
  const log = silentLogger();

  beforeAll(async () => {
    migrated = await migratedDatabase('jobretry', { jobKinds: ['runner-test'] });
    ({ isolated, database } = migrated);
    const names = topologyNames(isolated.prefix);
    broker = new Broker({
      url: TEST_AMQP_URL,
      connectionName: 'job-retry-test',
      log,
      topology: workTopology(names, {
        kinds: ['job.runner-test'],
        retryDelaysMs: [100, 200],
        deliveryLimit: 10,
      }),
    });
    await broker.start();
    store = new JobStore(database.db, names);
    probe = await BrokerProbe.open();
  });

  afterAll(async () => {
    await consumer?.cancel();
    await broker?.close();
    await probe?.close();
    await migrated.dispose();
  });

  const sendNow = async (messages: OutboxMessage[]) => {
    for (const m of messages) await publishOutgoing(broker, m);
  };

  function run(work: JobWork) {
    const names = topologyNames(isolated.prefix);
    consumer = startMessageConsumer(
      { broker, names, log, metrics },
      { kind: 'job.runner-test', prefetch: 2, retryDelaysMs: [100, 200], maxAttempts: 3 },
      jobHandler(
        { store, sendNow, maxAttempts: 3, resultTtlMs: 60_000, checkIntervalMs: 50, runningAfterMs: 50 },
        work,
      ),
    );
  }

  /** A registered kind's job: the runner treats every kind alike, and stores what the test's work returns. */
  const newJob = {
    clientId: 'default',
    kind: 'runner-test',
    customId: null,
    requestHash: 'h',
    input: { number: '6' },
    callbackUrl: null,
  };

  async function submit(): Promise<string> {
    const { job, outbox } = await store.create(newJob, 'test');
    await sendNow(outbox);
    return job.id;
  }

  const statusesOf = async (id: string) =>
    (
      await database.db
        .selectFrom('job_events')
        .select('status')
        .where('job_id', '=', id)
        .orderBy('sequence')
        .execute()
    ).map((e) => e.status);

  it('retries a failing job with backoff, then fails it with the last error and dead-letters its message (short runs: never running)', async () => {
    let calls = 0;
    run(async (): Promise<WorkOutcome> => {
      calls += 1;
      return {
        type: 'failed',
        error: { code: 'flaky', message: `attempt ${calls} failed` },
        permanent: false,
      };
    });
    const id = await submit();
    await waitFor('failed', async () => (await store.get(id))?.status === 'failed', { timeoutMs: 10_000 });
    const job = (await store.get(id))!;
    expect(job).toMatchObject({ attempts: 3, error: { code: 'flaky', message: 'attempt 3 failed' } });
    // Each run ended within runningAfterMs: its start and its end were one change.
    expect(await statusesOf(id)).toEqual(['queued', 'queued', 'queued', 'failed']);
    const deadLetters = await waitFor('dead-lettered', async () => {
      const m = await probe.drain(topologyNames(isolated.prefix).deadLetterQueue);
      return m.length ? m : undefined;
    });
    expect(deadLetters[0]!.headers['x-error-code']).toBe('flaky');
    await consumer!.cancel();
  });

  it('succeeds on a later attempt after transient failures, clearing the error', async () => {
    let calls = 0;
    run(async (_job, ctx): Promise<WorkOutcome> => {
      calls += 1;
      ctx.reportProgress(0.5, 'halfway');
      await new Promise((r) => setTimeout(r, 120)); // long enough for a progress write
      return calls < 2
        ? { type: 'failed', error: { code: 'flaky', message: 'once' }, permanent: false }
        : { type: 'succeeded', result: { ok: true } };
    });
    const id = await submit();
    await waitFor('succeeded', async () => (await store.get(id))?.status === 'succeeded', {
      timeoutMs: 10_000,
    });
    expect(await store.get(id)).toMatchObject({
      attempts: 2,
      error: null,
      result: { ok: true },
      progress: { fraction: 1 },
    });
    expect(await statusesOf(id)).toContain('running');
    const progress = await database.db
      .selectFrom('job_events')
      .select(['progress', 'progress_message'])
      .where('job_id', '=', id)
      .where('progress_message', '=', 'halfway')
      .execute();
    expect(progress.length).toBeGreaterThan(0);
    await consumer!.cancel();
  });

  /** A consumer of `job.runner-test` on `jobStore` whose work takes `runMs`; counts runs begun and finished per job. */
  function runCounting(jobStore: JobStore, runMs: number) {
    const names = topologyNames(isolated.prefix);
    const runs = { begun: new Map<string, number>(), finished: new Map<string, number>() };
    const count = (map: Map<string, number>, id: string) => map.set(id, (map.get(id) ?? 0) + 1);
    consumer = startMessageConsumer(
      { broker, names, log, metrics },
      { kind: 'job.runner-test', prefetch: 32, retryDelaysMs: [100, 200], maxAttempts: 3 },
      jobHandler(
        {
          store: jobStore,
          sendNow,
          maxAttempts: 3,
          resultTtlMs: 60_000,
          checkIntervalMs: 50,
          runningAfterMs: 50,
        },
        async (job, ctx): Promise<WorkOutcome> => {
          count(runs.begun, job.id);
          await sleep(runMs, ctx.signal);
          if (ctx.signal.aborted) return { type: 'cancelled' };
          count(runs.finished, job.id);
          return { type: 'succeeded', result: { id: job.id } };
        },
      ),
    );
    return runs;
  }

  /** Creates 20 jobs and sends each one's work message twice. */
  async function submitTwice(jobStore: JobStore): Promise<string[]> {
    const names = topologyNames(isolated.prefix);
    const ids: string[] = [];
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const { job, outbox } = await jobStore.create(newJob, 'dup');
        ids.push(job.id);
        await sendNow(outbox);
        await sendNow(outbox.filter((m) => m.exchange === names.workExchange)); // the same work message again
      }),
    );
    return ids;
  }

  const allSucceeded = (ids: string[]) =>
    waitFor(
      'all succeeded',
      async () => (await Promise.all(ids.map((id) => store.get(id)))).every((j) => j?.status === 'succeeded'),
      { timeoutMs: 10_000 },
    );

  it('commits one end per job when its message comes twice, with batched changes: events in order, the final one republished for the duplicate', async () => {
    const names = topologyNames(isolated.prefix);
    await probe.drain(names.jobEventsQueue);
    const batched = new JobStore(database.db, names, {
      batch: { maxItems: 50, maxWaitMs: 2 },
      events: 'all',
    });
    const runs = runCounting(batched, 0);
    const ids = await submitTwice(batched);
    await allSucceeded(ids);
    // A short run is not fenced by a committed `running`: the duplicate may run it again, but
    // only one end commits; the other run's change fails its guard and republishes that end.
    for (const id of ids) expect(await statusesOf(id)).toEqual(['queued', 'succeeded']);

    type Event = { payload: { jobId: string; eventId: string; sequence: number; status: string } };
    const events: Event['payload'][] = [];
    await waitFor(
      'every final event twice',
      async () => {
        events.push(...(await probe.drain(names.jobEventsQueue)).map((m) => (m.body as Event).payload));
        return ids.every(
          (id) => events.filter((e) => e.jobId === id && e.status === 'succeeded').length >= 2,
        );
      },
      { timeoutMs: 10_000 },
    );
    for (const id of ids) {
      const own = events.filter((e) => e.jobId === id);
      // First publication of each event in sequence order; the repeat is the same event.
      const firsts = own
        .filter((e, i) => own.findIndex((o) => o.eventId === e.eventId) === i)
        .map((e) => [e.sequence, e.status]);
      expect(firsts).toEqual([
        [1, 'queued'],
        [2, 'succeeded'],
      ]);
      expect(new Set(own.filter((e) => e.status === 'succeeded').map((e) => e.eventId)).size).toBe(1);
      expect(runs.finished.get(id)).toBeGreaterThanOrEqual(1);
    }
    await consumer!.cancel();
  });

  it('never lets a duplicate message run a job past runningAfterMs twice: the second run is stopped when its start is refused', async () => {
    const names = topologyNames(isolated.prefix);
    const batched = new JobStore(database.db, names, { batch: { maxItems: 50, maxWaitMs: 2 } });
    const runs = runCounting(batched, 300);
    const ids = await submitTwice(batched);
    await allSucceeded(ids);
    for (const id of ids) {
      expect(runs.finished.get(id)).toBe(1);
      expect(await statusesOf(id)).toEqual(['queued', 'running', 'succeeded']);
    }
    await consumer!.cancel();
  });
});
