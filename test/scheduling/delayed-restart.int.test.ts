import { ServiceProcess, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import { createIsolatedEnv, jobFinished, request, type IsolatedEnv } from '../harness.js';

/**
 * A delayed job outlives a restart of every service: producer, consumer and cleanup are real
 * processes, all stopped after the submit and started again. The job row is the only record of
 * the delay, so nothing is lost, and the job due after the restart still starts on time.
 */
describe('delayed jobs across a restart of every service', () => {
  let isolated: IsolatedEnv;
  let db: pg.Client;
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('delayrestart');
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    for (const p of processes) await p.kill9();
    await db.end();
    await isolated.dispose();
  });

  const env = { PORT: '0', OPS_PORT: '0', LOG_LEVEL: 'info', PROMOTE_INTERVAL_MS: '250' };
  /** Producer first (it migrates), then consumer and cleanup together; resolves with the API port. */
  const startAll = async (): Promise<number> => {
    const spawn = (service: string) => {
      const p = ServiceProcess.start(service, { ...isolated.env, ...env });
      processes.push(p);
      return p;
    };
    const producer = spawn('producer');
    const port = JSON.parse(await producer.waitForLog(/producer listening/)).port as number;
    await Promise.all([
      spawn('consumer').waitForLog(/consumer started/),
      spawn('cleanup').waitForLog(/cleanup started/),
    ]);
    return port;
  };
  const stopAll = async () => {
    for (const p of processes.splice(0).reverse()) expect(await p.stop()).toBe(0);
  };

  it('starts the job due after the restart within a second of its runAt, and the one due while all were down once they are back', async () => {
    let port = await startAll();
    const submittedAt = Date.now();
    const duringDowntime = new Date(submittedAt + 2_000);
    // Far enough ahead for a stop and start of three processes on a loaded machine (9 s seen).
    const afterRestart = new Date(submittedAt + 25_000);
    const submit = async (runAt: Date) => {
      const { status, body } = await request(port, 'POST', '/v1/jobs', {
        kind: 'factorize',
        input: { number: '4321' },
        runAt: runAt.toISOString(),
      });
      expect({ status, jobStatus: body.status }).toEqual({ status: 202, jobStatus: 'scheduled' });
      return body.id as string;
    };
    const early = await submit(duringDowntime);
    const late = await submit(afterRestart);

    await stopAll();
    // Everything is down past the first job's runAt.
    await waitFor(
      'the first job due with every service down',
      () => Date.now() > duringDowntime.getTime() + 1_000,
      {
        timeoutMs: 10_000,
      },
    );
    const { rows } = await db.query<{ status: string }>(
      `select status from "${isolated.schema}".jobs where id = any($1::uuid[])`,
      [[early, late]],
    );
    expect(rows.map((row) => row.status)).toEqual(['scheduled', 'scheduled']);

    const restartedAt = Date.now();
    port = await startAll();
    expect(Date.now()).toBeLessThan(afterRestart.getTime() - 1_000); // the second is still ahead

    const earlyJob = await jobFinished(port, early);
    expect(earlyJob.status).toBe('succeeded');
    // Late by the downtime, and started within moments of the services being back.
    expect(Date.parse(earlyJob.startedAt)).toBeGreaterThan(restartedAt);

    const lateJob = await jobFinished(port, late);
    expect(lateJob).toMatchObject({ status: 'succeeded', attempts: 1 });
    const lateness = Date.parse(lateJob.startedAt) - afterRestart.getTime();
    expect(lateness).toBeGreaterThanOrEqual(0);
    expect(lateness).toBeLessThan(1_000);
    await stopAll();
  });
});
