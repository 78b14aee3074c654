import { topologyNames } from '@conveyor/contracts';
import { BrokerProbe, ServiceProcess, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import { createIsolatedEnv, request, type IsolatedEnv } from '../harness.js';

interface LogEntry {
  level: string;
  message: string;
  [key: string]: unknown;
}

/** Two cleanup processes on one database: every routine's work is done once between them. */
describe('cleanups in pairs', () => {
  let db: pg.Client;
  let probe: BrokerProbe;
  const isolatedEnvs: IsolatedEnv[] = [];
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    probe = await BrokerProbe.open();
  });

  afterAll(async () => {
    for (const p of processes) await p.kill9();
    await probe.close();
    await db.end();
    for (const isolated of isolatedEnvs) await isolated.dispose();
  });

  const isolatedEnv = async (label: string) => {
    const isolated = await createIsolatedEnv(label);
    isolatedEnvs.push(isolated);
    return isolated;
  };
  const spawn = async (
    service: 'cleanup' | 'producer',
    isolated: IsolatedEnv,
    env: Record<string, string>,
    started: RegExp,
  ) => {
    const p = ServiceProcess.start(service, { ...isolated.env, LOG_LEVEL: 'info', OPS_PORT: '0', ...env });
    processes.push(p);
    await p.waitForLog(started);
    return p;
  };
  const entries = (p: ServiceProcess): LogEntry[] =>
    p.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as LogEntry];
      } catch {
        return [{ level: 'unparsed', message: line }];
      }
    });
  /**
   * Makes `change` in a transaction that then holds `table` locked until two other processes
   * wait for it, started meanwhile if need be. SHARE blocks writes (ROW EXCLUSIVE), EXCLUSIVE
   * blocks SELECT FOR UPDATE too: the commit releases both processes' passes at the same moment,
   * on the same rows, however their ticks fall otherwise.
   */
  const releasedTogether = async (
    table: string,
    change: (client: pg.Client) => Promise<unknown>,
    { mode = 'share', meanwhile }: { mode?: 'share' | 'exclusive'; meanwhile?: () => Promise<unknown> } = {},
  ) => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await client.query('begin');
      await change(client);
      await client.query(`lock table ${table} in ${mode} mode`);
      await meanwhile?.();
      await waitFor('both processes waiting for the table', async () => {
        const { rows } = await db.query<{ n: number }>(
          `select count(distinct pid)::int as n from pg_locks where relation = $1::regclass and not granted`,
          [table],
        );
        return rows[0]!.n >= 2;
      });
      await client.query('commit');
    } finally {
      await client.end();
    }
  };
  /** Lines worse than expected: errors, failed passes, anything not JSON (a crash trace). */
  const troubles = (p: ServiceProcess) =>
    entries(p).filter(
      (e) => e.level === 'error' || e.level === 'unparsed' || e.message === 'routine pass failed',
    );

  it('deletes each stale object once between them, and neither logs an error', async () => {
    const isolated = await isolatedEnv('replicastale');
    const env = {
      ROUTINE_INTERVAL_MS: '50',
      OBJECT_TTL_MS: '60000',
      // Small batches: each pass takes many, and the two processes' passes overlap.
      CLEANUP_BATCH_SIZE: '200',
    };
    // Both migrate the fresh schema at once, as replicas starting together do.
    const cleanups = await Promise.all([
      spawn('cleanup', isolated, env, /cleanup started/),
      spawn('cleanup', isolated, env, /cleanup started/),
    ]);
    const objects = `"${isolated.schema}".objects`;
    await db.query(`insert into ${objects} (id, last_seen) select g, now() from generate_series(1, 500) g`);
    // Stale rows arrive in rounds while both are running, each round seen by both at once.
    const rounds = 3;
    const perRound = 5_000;
    for (let round = 0; round < rounds; round++) {
      const first = 1_000 + round * perRound;
      await releasedTogether(objects, (client) =>
        client.query(
          `insert into ${objects} (id, last_seen) select g, now() - interval '1 hour' from generate_series($1::int, $2::int) g`,
          [first, first + perRound - 1],
        ),
      );
    }
    const stale = rounds * perRound;

    const deletedBy = (p: ServiceProcess) =>
      entries(p)
        .filter((e) => e.message === 'stale objects deleted')
        .reduce((sum, e) => sum + Number(e.deleted), 0);
    await waitFor(
      'every stale object deleted and counted',
      () => cleanups.reduce((sum, p) => sum + deletedBy(p), 0) === stale,
      { timeoutMs: 30_000 },
    );
    const { rows } = await db.query<{ n: number; fresh: number }>(
      `select count(*)::int as n, count(*) filter (where id <= 500)::int as fresh from ${objects}`,
    );
    expect(rows[0]).toEqual({ n: 500, fresh: 500 });
    for (const p of cleanups) expect(troubles(p)).toEqual([]);
  });

  it('repairs each stuck job once per tick between them, and the outbox relays send each repair once', async () => {
    const isolated = await isolatedEnv('replicastuck');
    const names = topologyNames(isolated.prefix);
    const outbox = `"${isolated.schema}".outbox`;
    const jobsTable = `"${isolated.schema}".jobs`;
    const lease = { DISPATCH_LEASE_MS: '1000', DISPATCH_RENEW_MS: '200' };

    // A producer takes jobs, then dies with its dispatch lease held: its unconfirmed jobs are due
    // to be re-sent by whoever finds the lease run out.
    const doomed = await spawn('producer', isolated, { PORT: '0', ...lease }, /producer listening/);
    const port = JSON.parse(await doomed.waitForLog(/producer listening/)).port as number;
    const jobs: string[] = [];
    for (let i = 0; i < 30; i++) {
      const { status, body } = await request(port, 'POST', '/v1/jobs', {
        kind: 'factorize',
        input: { number: String(5_000 + i) },
      });
      expect(status).toBe(202);
      jobs.push(body.id);
    }
    await doomed.kill9();

    const env = { JOB_ROUTINE_INTERVAL_MS: '100', STUCK_JOB_AFTER_MS: '600000' };
    const cleanups = await Promise.all([
      spawn('cleanup', isolated, env, /cleanup started/),
      spawn('cleanup', isolated, env, /cleanup started/),
    ]);
    const recoveries = () =>
      cleanups.flatMap((p) =>
        entries(p).filter(
          (e) => e.message === 're-sent the unconfirmed jobs of producers whose dispatch lease ran out',
        ),
      );
    await waitFor('the dead producer’s lease recovered', async () => {
      const { rows } = await db.query(`select count(*)::int as n from "${isolated.schema}".job_dispatchers`);
      return rows[0].n === 0 && recoveries().length > 0;
    });
    // By one of them, once.
    expect(recoveries().map((e) => e.dispatchers)).toEqual([1]);
    const recoveredJobs = Number(recoveries()[0]!.jobs);

    const outboxRows = async () =>
      (
        await db.query<{ job_id: string; correlation_id: string; n: number }>(
          `select body::jsonb -> 'payload' ->> 'jobId' as job_id, correlation_id, count(*)::int as n
           from ${outbox} group by 1, 2`,
        )
      ).rows;
    const repairsLogged = () =>
      cleanups.flatMap((p) => entries(p).filter((e) => e.message === 'stuck job handed back to the queue'));

    // Two rounds: the jobs are stuck (untouched for an hour, half of them `running`), repaired,
    // and stuck again; both cleanups' ticks look at them at the same moment.
    const rounds = 2;
    for (let round = 1; round <= rounds; round++) {
      await releasedTogether(jobsTable, (client) =>
        client.query(
          `update ${jobsTable} set updated_at = now() - interval '1 hour',
             status = case when id = any($2::uuid[]) then 'running' else status end
           where id = any($1::uuid[])`,
          [jobs, jobs.filter((_, i) => i % 2 === 0)],
        ),
      );
      await waitFor(`round ${round} of repairs`, async () => repairsLogged().length >= round * jobs.length, {
        timeoutMs: 20_000,
      });
    }
    const repairs = (await outboxRows()).filter((r) => r.correlation_id === 'cleanup');
    const eachJob = (n: number) => Object.fromEntries(jobs.map((id) => [id, n]));
    expect(Object.fromEntries(repairs.map((r) => [r.job_id, r.n]))).toEqual(eachJob(rounds));
    expect(repairsLogged()).toHaveLength(rounds * jobs.length);
    const recovered = (await outboxRows()).filter((r) => r.correlation_id.startsWith('dispatch-recovery-'));
    expect(recovered.reduce((sum, r) => sum + r.n, 0)).toBe(recoveredJobs);
    expect(recovered.every((r) => r.n === 1 && jobs.includes(r.job_id))).toBe(true);
    for (const p of cleanups) expect(troubles(p)).toEqual([]);

    // Two producers' relays empty the outbox: one message per row, none twice.
    const queued = (await probe.queue(names.workQueue('job.factorize'))).ready;
    const rows = (await outboxRows()).reduce((sum, r) => sum + r.n, 0);
    const relays: ServiceProcess[] = [];
    const startRelay = () =>
      spawn('producer', isolated, { PORT: '0', OUTBOX_POLL_MS: '50', ...lease }, /producer listening/);
    await releasedTogether(outbox, async () => undefined, {
      mode: 'exclusive',
      meanwhile: async () => relays.push(...(await Promise.all([startRelay(), startRelay()]))),
    });
    await waitFor(
      'the outbox relayed',
      async () => (await db.query(`select count(*)::int as n from ${outbox}`)).rows[0].n === 0,
      { timeoutMs: 20_000 },
    );
    const relayed = (p: ServiceProcess) =>
      entries(p)
        .filter((e) => e.message === 'outbox messages relayed')
        .reduce((sum, e) => sum + Number(e.messages), 0);
    expect(relays.reduce((sum, p) => sum + relayed(p), 0)).toBe(rows);
    const messages = await probe.drain(names.workQueue('job.factorize'));
    expect(messages).toHaveLength(queued + rows);
    const repairMessages = new Map<string, number>();
    for (const { body } of messages as { body: { correlationId: string; payload: { jobId: string } } }[])
      if (body.correlationId === 'cleanup')
        repairMessages.set(body.payload.jobId, (repairMessages.get(body.payload.jobId) ?? 0) + 1);
    expect(Object.fromEntries(repairMessages)).toEqual(eachJob(rounds));
  });
});
