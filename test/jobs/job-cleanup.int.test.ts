import { TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import {
  cleanupApp,
  consumerApp,
  createIsolatedEnv,
  producerApp,
  request,
  type IsolatedEnv,
} from '../harness.js';

/** The cleanup routines for jobs: expired results are dropped, jobs without a runner are handed back. */
describe('job cleanup routines', () => {
  let isolated: IsolatedEnv;
  let db: pg.Client;
  let producer: ReturnType<typeof producerApp>;
  const apps: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('jobclean');
    producer = producerApp({ ...isolated.env, OUTBOX_POLL_MS: '100' });
    await producer.start();
    apps.push(producer);
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop();
    await db.end();
    await isolated.dispose();
  });

  const jobOf = async (id: string) => (await request(producer.port, 'GET', `/v1/jobs/${id}`)).body;

  it('hands a stuck job back to the queue and drops results past their expiry', async () => {
    // A job stuck "running" with no runner: its message is gone (say, dead-lettered by the delivery limit).
    const { body: stuck } = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '221' },
    });
    const { body: done } = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '15' },
    });
    const consumer = consumerApp(isolated.env);
    await consumer.start();
    await waitFor('second job done', async () => (await jobOf(done.id)).status === 'succeeded');
    await consumer.stop();
    await db.query(
      `update "${isolated.schema}".jobs set status = 'running', result = null, updated_at = now() - interval '1 hour' where id = $1`,
      [stuck.id],
    );
    await db.query(
      `update "${isolated.schema}".jobs set expires_at = now() - interval '1 second' where id = $1`,
      [done.id],
    );

    const cleanup = cleanupApp({
      ...isolated.env,
      JOB_ROUTINE_INTERVAL_MS: '100',
      STUCK_JOB_AFTER_MS: '60000',
    });
    await cleanup.start();
    apps.push(cleanup);
    await waitFor('result expired', async () => (await jobOf(done.id)).expired === true);
    expect(await jobOf(done.id)).toMatchObject({ status: 'succeeded', result: null, expired: true });

    const fresh = consumerApp(isolated.env);
    await fresh.start();
    apps.push(fresh);
    await waitFor(
      'stuck job finished after being handed back',
      async () => (await jobOf(stuck.id)).status === 'succeeded',
      { timeoutMs: 15_000 },
    );
    expect((await jobOf(stuck.id)).result.factors).toEqual(['13', '17']);
  });
});
