import { randomUUID } from 'node:crypto';
import type { JobEvent } from '@conveyor/contracts';
import { sql, type DatabaseHandle } from '@conveyor/database';
import { migratedDatabase, type MigratedDatabase } from '@conveyor/testkit';
import {
  WebhookDeliveryStore,
  type AttemptRecord,
  type EventToRecord,
  type LeasedWebhookDelivery,
} from './webhook-delivery-store.js';
import { generateWebhookSecret } from './webhook-signature.js';
import { WebhookSecretStore } from './webhook-secret-store.js';

const LEASE_MS = 30_000;
const URL = 'http://receiver.test/hooks';

/** Batched recording and bookkeeping keep every rule of recording one event and one attempt at a time. */
describe('WebhookDeliveryStore', () => {
  let migrated: MigratedDatabase;
  let database: DatabaseHandle;
  let store: WebhookDeliveryStore;

  beforeAll(async () => {
    migrated = await migratedDatabase('deliverystore');
    database = migrated.database;
    store = new WebhookDeliveryStore(database.db);
  });

  afterAll(async () => {
    await migrated.dispose();
  });

  async function newJob(): Promise<string> {
    const id = randomUUID();
    await sql`insert into jobs (id, client_id, kind, request_hash, input, status, callback_url) values (${id}, 'default', 'factorize', 'h', '{"number":"6"}'::jsonb, 'running', ${URL})`.execute(
      database.db,
    );
    return id;
  }

  const eventOf = (jobId: string, sequence: number, url = URL): EventToRecord => {
    const event: JobEvent & { callbackUrl: string } = {
      eventId: randomUUID(),
      jobId,
      clientId: 'default',
      kind: 'factorize',
      customId: null,
      status: 'running',
      sequence,
      progress: { fraction: 0, message: null },
      result: null,
      error: null,
      callbackUrl: url,
      occurredAt: new Date().toISOString(),
    };
    return { event, payload: JSON.stringify({ sequence }) };
  };

  const rowsOf = (jobId: string) =>
    database.db
      .selectFrom('webhook_deliveries')
      .select(['id', 'sequence', 'status', 'attempts', 'last_status_code', 'last_error', 'lease_until'])
      .where('job_id', '=', jobId)
      .orderBy('sequence')
      .execute();
  const statuses = async (jobId: string) => (await rowsOf(jobId)).map((r) => [r.sequence, r.status]);
  const claimFor = async (jobId: string) =>
    (await store.claimDue(100, LEASE_MS)).filter((d) => d.jobId === jobId);
  const attempt = (n: number, statusCode: number | null, error: string | null = null): AttemptRecord => ({
    attempt: n,
    startedAt: new Date(),
    statusCode,
    latencyMs: 3,
    responseSnippet: 'ok',
    error,
  });

  it('leases the oldest event of a job at once and holds its later ones until it is done, in order', async () => {
    const job = await newJob();
    const recorded = await store.recordEvents([eventOf(job, 1), eventOf(job, 2), eventOf(job, 3)], {
      leaseUpTo: 10,
      leaseMs: LEASE_MS,
    });
    expect(recorded.leased.map((d) => d.sequence)).toEqual([1]);
    expect(recorded.leased[0]).toMatchObject({
      jobId: job,
      status: 'sending',
      attempts: 0,
      url: URL,
      payload: '{"sequence":1}',
    });
    expect(recorded.waitingJobIds).toEqual([job, job]);
    expect(await statuses(job)).toEqual([
      [1, 'sending'],
      [2, 'pending'],
      [3, 'pending'],
    ]);
    expect((await rowsOf(job))[0]!.lease_until).not.toBeNull();

    // Nothing claimable while 1 is out; after it, 2 and only 2.
    expect(await claimFor(job)).toEqual([]);
    await store.recordAttempts([
      { delivery: recorded.leased[0]!, attempt: attempt(1, 200), outcome: { type: 'delivered' } },
    ]);
    const second = await claimFor(job);
    expect(second.map((d) => d.sequence)).toEqual([2]);
    await store.recordAttempts([
      { delivery: second[0]!, attempt: attempt(1, 200), outcome: { type: 'delivered' } },
    ]);
    expect((await claimFor(job)).map((d) => d.sequence)).toEqual([3]);
  });

  it('makes an older event stand down when a newer one of its job came first, in the same batch or an earlier one', async () => {
    const job = await newJob();
    const first = await store.recordEvents([eventOf(job, 3), eventOf(job, 1)], {
      leaseUpTo: 10,
      leaseMs: LEASE_MS,
    });
    expect(first.leased.map((d) => d.sequence)).toEqual([3]);
    await store.recordEvents([eventOf(job, 2)], { leaseUpTo: 10, leaseMs: LEASE_MS });
    const rows = await rowsOf(job);
    expect(rows.map((r) => [r.sequence, r.status])).toEqual([
      [1, 'superseded'],
      [2, 'superseded'],
      [3, 'sending'],
    ]);
    expect(rows[0]!.last_error).toBe('a newer status of the job arrived first');
  });

  it('lets a newer status supersede an older one waiting out a retry, never a fresh one', async () => {
    const job = await newJob();
    const [failing] = (await store.recordEvents([eventOf(job, 1)], { leaseUpTo: 1, leaseMs: LEASE_MS }))
      .leased;
    await store.recordAttempts([
      {
        delivery: failing!,
        attempt: attempt(1, 500),
        outcome: { type: 'retry', nextAttemptAt: new Date(Date.now() + 60_000) },
      },
    ]);
    await store.recordEvents([eventOf(job, 2), eventOf(job, 3)], { leaseUpTo: 10, leaseMs: LEASE_MS });
    expect(await statuses(job)).toEqual([
      [1, 'superseded'],
      [2, 'sending'],
      [3, 'pending'],
    ]);
  });

  it('records an event once however often it arrives, within a batch or across batches', async () => {
    const job = await newJob();
    const event = eventOf(job, 1);
    const recorded = await store.recordEvents([event, event], { leaseUpTo: 10, leaseMs: LEASE_MS });
    expect(recorded.leased).toHaveLength(1);
    const again = await store.recordEvents([event], { leaseUpTo: 10, leaseMs: LEASE_MS });
    expect(again).toEqual({ leased: [], waitingJobIds: [] });
    expect(await rowsOf(job)).toHaveLength(1);
  });

  it('leases no more than it is offered; the rest stay pending for a claim', async () => {
    const jobs = [await newJob(), await newJob(), await newJob()];
    const recorded = await store.recordEvents(
      jobs.map((job) => eventOf(job, 1)),
      { leaseUpTo: 1, leaseMs: LEASE_MS },
    );
    expect(recorded.leased.map((d) => d.jobId)).toEqual([jobs[0]]);
    expect(recorded.waitingJobIds).toEqual([jobs[1], jobs[2]]);
    const claimed = (await store.claimDue(100, LEASE_MS)).filter((d) => jobs.includes(d.jobId));
    expect(claimed.map((d) => d.jobId).sort()).toEqual([jobs[1], jobs[2]].sort());
  });

  it('claims a delivery whose lease ran out (its notifier died) with the same id, then the next of its job, never both at once', async () => {
    const job = await newJob();
    // Leased for 1 ms: as if the notifier holding it died right after recording.
    const recorded = await store.recordEvents([eventOf(job, 1), eventOf(job, 2)], {
      leaseUpTo: 10,
      leaseMs: 1,
    });
    expect(recorded.leased.map((d) => d.sequence)).toEqual([1]);
    await sql`select pg_sleep(0.01)`.execute(database.db);
    const again = await claimFor(job);
    expect(again.map((d) => [d.id, d.sequence, d.status])).toEqual([[recorded.leased[0]!.id, 1, 'sending']]);
    // Leased afresh for LEASE_MS: not claimable again, and 2 waits behind it.
    expect(await claimFor(job)).toEqual([]);
    await store.recordAttempts([
      { delivery: again[0]!, attempt: attempt(1, 200), outcome: { type: 'delivered' } },
    ]);
    expect((await claimFor(job)).map((d) => d.sequence)).toEqual([2]);
  });

  it('claims due retries oldest first, up to the limit', async () => {
    const jobs = [await newJob(), await newJob(), await newJob()];
    const recorded = await store.recordEvents(
      jobs.map((job) => eventOf(job, 1)),
      { leaseUpTo: 10, leaseMs: LEASE_MS },
    );
    // A day ago or more: older than anything the other tests leave due in this table.
    const past = (msAgo: number) => new Date(Date.now() - 86_400_000 - msAgo);
    // Back to pending, due at different times in the past: a retry whose time has come.
    await store.recordAttempts(
      recorded.leased.map((delivery, i) => ({
        delivery,
        attempt: attempt(1, 503),
        outcome: { type: 'retry' as const, nextAttemptAt: past(1_000 * (i + 1)) },
      })),
    );
    const first = (await store.claimDue(2, LEASE_MS)).filter((d) => jobs.includes(d.jobId));
    expect(first.map((d) => d.jobId)).toEqual([jobs[2], jobs[1]]);
    expect(first.every((d) => d.attempts === 1)).toBe(true);
    expect((await claimFor(jobs[0]!)).map((d) => d.jobId)).toEqual([jobs[0]]);
  });

  it('records an event for a URL that answered 410 as gone, never leased', async () => {
    const goneUrl = 'http://gone.test/hooks';
    const job = await newJob();
    const [leased] = (
      await store.recordEvents([eventOf(job, 1, goneUrl)], { leaseUpTo: 1, leaseMs: LEASE_MS })
    ).leased;
    await store.recordAttempt(leased!, attempt(1, 410), { type: 'gone' });
    const other = await newJob();
    const recorded = await store.recordEvents([eventOf(other, 1, goneUrl)], {
      leaseUpTo: 1,
      leaseMs: LEASE_MS,
    });
    expect(recorded).toEqual({ leased: [], waitingJobIds: [] });
    expect(await statuses(other)).toEqual([[1, 'gone']]);
    expect(await statuses(job)).toEqual([[1, 'gone']]);
  });

  it('settles a URL as gone only after a batch recording to it has committed, so its rows are settled too', async () => {
    const url = 'http://gone-later.test/hooks';
    const job = await newJob();
    const [leased] = (await store.recordEvents([eventOf(job, 1, url)], { leaseUpTo: 1, leaseMs: LEASE_MS }))
      .leased;
    const other = await newJob();
    // A recording of the same URL holds its shared URL lock (the batch's first statement), then
    // the 410 arrives: settling it waits for the recording to commit, then sees its row.
    const recording = database.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock_shared(hashtext('webhook-url'), hashtext(${url}))`.execute(trx);
      const gone = store.recordAttempt(leased!, attempt(1, 410), { type: 'gone' });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await sql`insert into webhook_deliveries (id, job_id, client_id, sequence, url, payload, status) values (${'msg_' + randomUUID()}, ${other}, 'default', 1, ${url}, '{}', 'sending')`.execute(
        trx,
      );
      return { gone };
    });
    await (
      await recording
    ).gone;
    expect(await statuses(other)).toEqual([[1, 'gone']]);
  });

  it('logs a batch of attempts and moves each delivery on by its outcome', async () => {
    const jobs = [await newJob(), await newJob(), await newJob(), await newJob(), await newJob()];
    const { leased } = await store.recordEvents(
      jobs.map((job) => eventOf(job, 1)),
      { leaseUpTo: 10, leaseMs: LEASE_MS },
    );
    const [delivered, retried, failed, deferred, superseded] = leased as [
      LeasedWebhookDelivery,
      LeasedWebhookDelivery,
      LeasedWebhookDelivery,
      LeasedWebhookDelivery,
      LeasedWebhookDelivery,
    ];
    // A newer event supersedes `superseded` while it is in flight: its retry must not revive it.
    await sql`update webhook_deliveries set status = 'superseded' where id = ${superseded.id}`.execute(
      database.db,
    );
    const later = new Date(Date.now() + 60_000);
    await store.recordAttempts([
      { delivery: delivered, attempt: attempt(1, 200), outcome: { type: 'delivered' } },
      { delivery: retried, attempt: attempt(1, 503, null), outcome: { type: 'retry', nextAttemptAt: later } },
      { delivery: failed, attempt: attempt(1, null, 'address_refused: no'), outcome: { type: 'failed' } },
      { delivery: deferred, attempt: undefined, outcome: { type: 'deferred', nextAttemptAt: later } },
      { delivery: superseded, attempt: attempt(1, 500), outcome: { type: 'retry', nextAttemptAt: later } },
    ]);
    const byId = new Map(
      (
        await database.db
          .selectFrom('webhook_deliveries')
          .selectAll()
          .where(
            'id',
            'in',
            leased.map((d) => d.id),
          )
          .execute()
      ).map((r) => [r.id, r]),
    );
    expect(byId.get(delivered.id)).toMatchObject({
      status: 'delivered',
      attempts: 1,
      last_status_code: 200,
      lease_until: null,
    });
    expect(byId.get(delivered.id)!.delivered_at).not.toBeNull();
    expect(byId.get(retried.id)).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_status_code: 503,
      next_attempt_at: later,
    });
    expect(byId.get(failed.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_status_code: null,
      last_error: 'address_refused: no',
    });
    expect(byId.get(deferred.id)).toMatchObject({
      status: 'pending',
      attempts: 0,
      next_attempt_at: later,
      lease_until: null,
    });
    expect(byId.get(superseded.id)).toMatchObject({ status: 'superseded' });

    const logged = await database.db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where(
        'delivery_id',
        'in',
        leased.map((d) => d.id),
      )
      .orderBy('id')
      .execute();
    expect(logged.map((a) => [a.delivery_id, a.attempt, a.status_code])).toEqual([
      [delivered.id, 1, 200],
      [retried.id, 1, 503],
      [failed.id, 1, null],
      [superseded.id, 1, 500],
    ]);
    const history = await store.listForJob(jobs[0]!);
    expect(history[0]!.attemptLog).toEqual([
      expect.objectContaining({ attempt: 1, statusCode: 200, latencyMs: 3, responseSnippet: 'ok' }),
    ]);
  });
});

describe('WebhookSecretStore', () => {
  let migrated: MigratedDatabase;
  let database: DatabaseHandle;
  const defaultSecret = generateWebhookSecret();

  beforeAll(async () => {
    migrated = await migratedDatabase('secretstore', { poolMax: 2 });
    database = migrated.database;
  });

  afterAll(async () => {
    await migrated.dispose();
  });

  /** The version a delivery leased now would carry. */
  async function currentVersion(): Promise<number> {
    const { rows } = await sql<{
      v: string;
    }>`select coalesce(max(id), 0) as v from webhook_secrets where client_id = 'default'`.execute(
      database.db,
    );
    return Number(rows[0]!.v);
  }

  it('serves a cached list while the version is unchanged, and sees a rotation made elsewhere at once', async () => {
    const notifier = new WebhookSecretStore(database.db, defaultSecret);
    const api = new WebhookSecretStore(database.db, defaultSecret); // another process
    expect(await notifier.secretsFor('default', await currentVersion())).toEqual([defaultSecret]);

    const rotated = generateWebhookSecret();
    await api.rotate('default', rotated, 60_000);
    // A delivery leased before the rotation (older version) may still use the cached list...
    expect(await notifier.secretsFor('default', 0)).toEqual([defaultSecret]);
    // ...one leased after it carries the new version: both secrets sign, the new one first.
    expect(await notifier.secretsFor('default', await currentVersion())).toEqual([rotated, defaultSecret]);

    // Cached: a hand edit that leaves the version alone is not re-read...
    await sql`update webhook_secrets set secret = ${'whsec_edited'} where secret = ${rotated}`.execute(
      database.db,
    );
    expect((await notifier.secretsFor('default', await currentVersion()))[0]).toBe(rotated);
    // ...while a caller without a version always reads.
    expect((await notifier.secretsFor('default'))[0]).toBe('whsec_edited');
  });

  it('drops a cached list when one of its secrets expires, though no new version came', async () => {
    const store = new WebhookSecretStore(database.db, defaultSecret);
    const newest = generateWebhookSecret();
    await store.rotate('default', newest, 300);
    const version = await currentVersion();
    const during = await store.secretsFor('default', version);
    expect(during[0]).toBe(newest);
    expect(during).toContain('whsec_edited');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await store.secretsFor('default', version)).not.toContain('whsec_edited');
  });
});
