import { TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import {
  cleanupApp,
  createIsolatedEnv,
  QUICK_SEMIPRIME,
  request,
  startServices,
  WEBHOOK_SECRET,
  type IsolatedEnv,
  type Services,
} from '../harness.js';
import { Receiver } from '../webhooks/receiver.js';

const DAY = 86_400_000;

/**
 * Retention: jobs, their history, webhook deliveries, attempts and idempotency keys each expire
 * by their own setting, pruned in small batches by every cleanup replica at once while jobs keep
 * flowing. Records are aged by moving their timestamps back (waiting days is not a test).
 */
describe('retention', () => {
  let isolated: IsolatedEnv;
  let db: pg.Client;
  let services: Services;
  let receiver: Receiver;
  let env: Record<string, string>;
  const table = (name: string) => `"${isolated.schema}".${name}`;
  const count = async (sql: string, params: unknown[] = []) =>
    Number((await db.query<{ n: string }>(sql, params)).rows[0]!.n);

  beforeAll(async () => {
    isolated = await createIsolatedEnv('retention');
    env = {
      ...isolated.env,
      WEBHOOK_SECRET,
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      DISPATCH_POLL_MS: '50',
    };
    services = await startServices(env, { notifier: true });
    receiver = await new Receiver().start();
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await services.stop();
    await receiver.stop();
    await db.end();
    await isolated.dispose();
  });

  const runJobs = async (n: number, idempotencyKeys = false) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { status, body } = await request(
        services.port,
        'POST',
        '/v1/jobs',
        { kind: 'factorize', input: { number: QUICK_SEMIPRIME.n }, callbackUrl: receiver.url },
        idempotencyKeys ? { 'idempotency-key': `ret-${i}-${Math.random()}` } : {},
      );
      expect(status).toBe(202);
      ids.push(body.id as string);
    }
    await waitFor(
      'every job succeeded and its pushes delivered',
      async () =>
        (await count(`select count(*) n from ${table('jobs')} where id = any($1) and status = 'succeeded'`, [
          ids,
        ])) === n &&
        (await count(
          `select count(*) n from ${table('webhook_deliveries')} where job_id = any($1) and status <> 'delivered'`,
          [ids],
        )) === 0 &&
        // Each job's last push (its final sequence) delivered: no delivery of it comes after.
        (await count(
          `select count(*) n from ${table('webhook_deliveries')} d join ${table('jobs')} j on j.id = d.job_id
           where j.id = any($1) and d.sequence = j.sequence and d.status = 'delivered'`,
          [ids],
        )) === n,
      { timeoutMs: 30_000 },
    );
    return ids;
  };
  const ageJobs = async (ids: string[], days: number) => {
    const ago = `now() - interval '${days} days'`;
    await db.query(
      `update ${table('jobs')} set created_at = ${ago}, finished_at = ${ago} where id = any($1)`,
      [ids],
    );
  };
  const ageHistory = async (ids: string[], days: number) => {
    const ago = `now() - interval '${days} days'`;
    await db.query(`update ${table('job_events')} set occurred_at = ${ago} where job_id = any($1)`, [ids]);
    await db.query(`update ${table('webhook_deliveries')} set created_at = ${ago} where job_id = any($1)`, [
      ids,
    ]);
    await db.query(
      `update ${table('webhook_attempts')} set started_at = ${ago} where delivery_id in (select id from ${table('webhook_deliveries')} where job_id = any($1))`,
      [ids],
    );
  };
  const rowsOf = async (ids: string[]) => ({
    jobs: await count(`select count(*) n from ${table('jobs')} where id = any($1)`, [ids]),
    events: await count(`select count(*) n from ${table('job_events')} where job_id = any($1)`, [ids]),
    deliveries: await count(`select count(*) n from ${table('webhook_deliveries')} where job_id = any($1)`, [
      ids,
    ]),
    attempts: await count(
      `select count(*) n from ${table('webhook_attempts')} a join ${table('webhook_deliveries')} d on d.id = a.delivery_id where d.job_id = any($1)`,
      [ids],
    ),
  });

  it('prunes each record by its own setting, with two cleanups at once, while jobs keep flowing', async () => {
    const old = await runJobs(6, true);
    const oldHistoryOnly = await runJobs(4);
    const fresh = await runJobs(3);
    await ageJobs(old, 40);
    await ageHistory([...old, ...oldHistoryOnly], 20);
    await db.query(`update ${table('idempotency_keys')} set expires_at = now() - interval '1 second'`);
    const keysBefore = await count(`select count(*) n from ${table('idempotency_keys')}`);
    expect(keysBefore).toBe(6);
    const freshBefore = await rowsOf(fresh);
    const historyKeptBefore = (await rowsOf(oldHistoryOnly)).jobs;

    // Jobs kept 30 days, their history and pushes 10 days; small batches so several passes run.
    const settings = {
      ...env,
      JOB_RETENTION_MS: String(30 * DAY),
      JOB_EVENT_RETENTION_MS: String(10 * DAY),
      WEBHOOK_DELIVERY_RETENTION_MS: String(10 * DAY),
      WEBHOOK_ATTEMPT_RETENTION_MS: String(10 * DAY),
      RETENTION_INTERVAL_MS: '200',
      RETENTION_BATCH_SIZE: '2',
      RETENTION_BATCH_PAUSE_MS: '0',
    };
    const cleanups = [cleanupApp(settings), cleanupApp(settings)];
    // Jobs submitted and run while the two cleanups prune.
    const during = runJobs(5);
    for (const cleanup of cleanups) await cleanup.start();
    try {
      await waitFor(
        'the old jobs and the old history gone',
        async () => {
          const gone = await rowsOf(old);
          const history = await rowsOf(oldHistoryOnly);
          return (
            gone.jobs + gone.events + gone.deliveries + gone.attempts === 0 &&
            history.events + history.deliveries + history.attempts === 0 &&
            (await count(`select count(*) n from ${table('idempotency_keys')}`)) === 0
          );
        },
        { timeoutMs: 20_000 },
      );
      const ranMeanwhile = await during;
      // Jobs kept with their history gone; everything young untouched; the load unharmed.
      expect((await rowsOf(oldHistoryOnly)).jobs).toBe(historyKeptBefore);
      expect(await rowsOf(fresh)).toEqual(freshBefore);
      const meanwhile = await rowsOf(ranMeanwhile);
      expect(meanwhile.jobs).toBe(5);
      expect(meanwhile.events).toBeGreaterThanOrEqual(10);
      for (const id of oldHistoryOnly)
        expect((await request(services.port, 'GET', `/v1/jobs/${id}`)).body.status).toBe('succeeded');
    } finally {
      for (const cleanup of cleanups) await cleanup.stop();
    }
  });

  it('keeps an unsettled delivery and an unfinished job, however old', async () => {
    const [job, witness] = await runJobs(2);
    // A push still being sent (leased for an hour, so the notifier leaves it) of a job running again.
    await db.query(
      `update ${table('webhook_deliveries')} set status = 'sending', lease_until = now() + interval '1 hour' where job_id = $1`,
      [job],
    );
    await db.query(`update ${table('jobs')} set status = 'running' where id = $1`, [job]);
    await ageJobs([job!, witness!], 40);
    await ageHistory([job!, witness!], 40);
    const before = await rowsOf([job!]);
    const cleanup = cleanupApp({
      ...env,
      JOB_RETENTION_MS: String(DAY),
      JOB_EVENT_RETENTION_MS: '0',
      WEBHOOK_DELIVERY_RETENTION_MS: String(DAY),
      WEBHOOK_ATTEMPT_RETENTION_MS: '0',
      RETENTION_INTERVAL_MS: '100',
    });
    await cleanup.start();
    try {
      // The witness, as old but finished and settled, shows that a pass has run.
      await waitFor('the witness pruned', async () => (await rowsOf([witness!])).jobs === 0);
      expect(await rowsOf([job!])).toEqual(before);
    } finally {
      await cleanup.stop();
    }
  });
});
