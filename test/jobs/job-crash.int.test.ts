import { ServiceProcess, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import {
  consumerApp,
  createIsolatedEnv,
  producerApp,
  request,
  SLOW_SEMIPRIME,
  VERY_SLOW_SEMIPRIME,
  type IsolatedEnv,
} from '../harness.js';

/** Processes die at the worst moments: nothing is lost, nothing runs twice to completion. */
describe('job durability across crashes', () => {
  let isolated: IsolatedEnv;
  let db: pg.Client;
  const processes: ServiceProcess[] = [];
  const apps: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('jobcrash');
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    for (const p of processes) await p.kill9();
    for (const app of apps) await app.stop();
    await db.end();
    await isolated.dispose();
  });

  const spawn = (service: string, env: Record<string, string> = {}) => {
    const p = ServiceProcess.start(service, {
      ...isolated.env,
      LOG_LEVEL: 'info',
      JOB_CHECK_INTERVAL_MS: '100',
      ...env,
    });
    processes.push(p);
    return p;
  };
  const portOf = async (producer: ServiceProcess) =>
    JSON.parse(await producer.waitForLog(/producer listening/)).port as number;
  const statusOf = async (id: string) =>
    (await db.query(`select status, attempts, result from "${isolated.schema}".jobs where id = $1`, [id]))
      .rows[0] as { status: string; attempts: number; result: { factors: string[] } };

  it('redelivers a job whose consumer is killed mid-factorization; it finishes exactly once', async () => {
    const producer = spawn('producer', { PORT: '0', OPS_PORT: '0' });
    const port = await portOf(producer);
    const first = spawn('consumer', { OPS_PORT: '0' });
    await first.waitForLog(/consumer started/);

    const { body: job } = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: SLOW_SEMIPRIME.n },
    });
    await waitFor('running with progress', async () => {
      const { rows } = await db.query(
        `select count(*)::int as n from "${isolated.schema}".job_events where job_id = $1 and status = 'running'`,
        [job.id],
      );
      return rows[0].n >= 2;
    });
    await first.kill9();
    expect((await statusOf(job.id)).status).toBe('running');

    const second = spawn('consumer', { OPS_PORT: '0' });
    await second.waitForLog(/consumer started/);
    await waitFor('succeeded after redelivery', async () => (await statusOf(job.id)).status === 'succeeded', {
      timeoutMs: 60_000,
    });
    const done = await statusOf(job.id);
    expect(done.attempts).toBe(2);
    expect(done.result.factors).toEqual(SLOW_SEMIPRIME.factors);
    const { rows } = await db.query(
      `select count(*)::int as n from "${isolated.schema}".job_events where job_id = $1 and status = 'succeeded'`,
      [job.id],
    );
    expect(rows[0].n).toBe(1);
    await producer.stop();
    await second.stop();
  });

  it('runs a job whose producer died between the commit and the publish', async () => {
    const doomed = spawn('producer', {
      PORT: '0',
      OPS_PORT: '0',
      FAULT_INJECTION: 'crash-after-commit',
      DISPATCH_LEASE_MS: '1000',
      DISPATCH_RENEW_MS: '200',
    });
    const port = await portOf(doomed);
    await expect(
      request(port, 'POST', '/v1/jobs', {
        kind: 'factorize',
        input: { number: '9991' },
        customId: 'after-crash',
      }),
    ).rejects.toThrow();
    await waitFor('producer gone', () => doomed.exited);
    const { rows } = await db.query(
      `select id, status, dispatcher from "${isolated.schema}".jobs where custom_id = 'after-crash'`,
    );
    // Committed with the dead producer as its dispatcher: no outbox row records its message.
    expect(rows).toEqual([{ id: expect.any(String), status: 'queued', dispatcher: expect.any(String) }]);
    const outbox = await db.query(`select count(*)::int as n from "${isolated.schema}".outbox`);
    expect(outbox.rows[0].n).toBe(0);

    // A healthy producer finds the dead one's lease run out and re-sends its unconfirmed jobs.
    const producer = producerApp({ ...isolated.env, OUTBOX_POLL_MS: '100' });
    const consumer = consumerApp(isolated.env);
    apps.push(consumer, producer);
    await producer.start();
    await consumer.start();
    await waitFor('the committed job ran', async () => (await statusOf(rows[0].id)).status === 'succeeded', {
      timeoutMs: 20_000,
    });
    expect((await statusOf(rows[0].id)).result.factors).toEqual(['97', '103']);
    // Gone before the next test, whose consumer must be the only one on the queue.
    apps.splice(apps.indexOf(consumer), 1);
    apps.splice(apps.indexOf(producer), 1);
    await consumer.stop();
    await producer.stop();
  });

  it('redelivers the jobs whose acks a killed consumer was holding, and runs none of them again', async () => {
    const producer = spawn('producer', { PORT: '0', OPS_PORT: '0' });
    const port = await portOf(producer);
    // Acks held for a minute behind a slow job delivered first: every quick job that finishes
    // after it is still unacknowledged at the kill (a run of finished ones is acked at once).
    const first = spawn('consumer', { OPS_PORT: '0', JOB_ACK_HOLD_MS: '60000', FACTORIZE_CONCURRENCY: '4' });
    await first.waitForLog(/consumer started/);
    const { body: slow } = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: VERY_SLOW_SEMIPRIME.n },
    });
    await waitFor('the slow job running', async () => (await statusOf(slow.id)).status === 'running');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const { body } = await request(port, 'POST', '/v1/jobs', {
        kind: 'factorize',
        input: { number: String(1001 + i) },
      });
      ids.push(body.id);
    }
    await waitFor('all succeeded', async () => {
      for (const id of ids) if ((await statusOf(id)).status !== 'succeeded') return false;
      return true;
    });
    await first.kill9();

    const second = spawn('consumer', { OPS_PORT: '0' });
    await second.waitForLog(/consumer started/);
    // Generous: the new consumer also runs the slow job again, and the suite runs beside.
    await waitFor(
      'every held message redelivered and settled',
      () =>
        Promise.resolve(
          second.lines.filter((line) => line.includes('job already finished')).length >= ids.length,
        ),
      { timeoutMs: 90_000 },
    );
    for (const id of ids) {
      expect(await statusOf(id)).toMatchObject({ status: 'succeeded', attempts: 1 });
      const { rows } = await db.query(
        `select count(*)::int as n from "${isolated.schema}".job_events where job_id = $1 and status = 'succeeded'`,
        [id],
      );
      expect(rows[0].n).toBe(1);
    }
    await request(port, 'DELETE', `/v1/jobs/${slow.id}`);
    await producer.stop();
    await second.stop();
  }, 150_000);
});
