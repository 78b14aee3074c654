import { ServiceProcess, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import pg from 'pg';
import { consumerApp, createIsolatedEnv, producerApp, request, type IsolatedEnv } from '../harness.js';

interface LogEntry {
  level: string;
  message: string;
  jobs?: number;
}

/**
 * Two cleanup processes run the promoter and the scheduler at once, on one database: every delayed
 * job is queued once, every schedule tick makes one job; and the catch-up policies after both
 * were down.
 */
describe('promoter and scheduler in two cleanups', () => {
  let isolated: IsolatedEnv;
  let db: pg.Client;
  let port: number;
  const apps: { stop(): Promise<void> }[] = [];
  const processes: ServiceProcess[] = [];

  const cleanupEnv = (extra: Record<string, string> = {}) => ({
    ...isolated.env,
    LOG_LEVEL: 'debug',
    OPS_PORT: '0',
    PROMOTE_INTERVAL_MS: '50',
    // Small batches: the two promoters' passes interleave over many of them.
    PROMOTE_BATCH_SIZE: '25',
    SCHEDULER_INTERVAL_MS: '50',
    SCHEDULE_MISFIRE_GRACE_MS: '2000',
    ...extra,
  });
  const startCleanup = async (extra?: Record<string, string>) => {
    const p = ServiceProcess.start('cleanup', cleanupEnv(extra));
    processes.push(p);
    await p.waitForLog(/cleanup started/);
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
  const troubles = (p: ServiceProcess) =>
    entries(p).filter(
      (e) => e.level === 'error' || e.level === 'unparsed' || e.message === 'routine pass failed',
    );
  const table = (name: string) => `"${isolated.schema}".${name}`;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('schedreplicas');
    const producer = producerApp(isolated.env);
    await producer.start();
    port = producer.port;
    const consumer = consumerApp({ ...isolated.env, FACTORIZE_CONCURRENCY: '32' });
    await consumer.start();
    apps.push(producer, consumer);
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    for (const p of processes) await p.kill9();
    for (const app of apps.reverse()) await app.stop();
    await db.end();
    await isolated.dispose();
  });

  it('queues each delayed job once between them, both taking part', async () => {
    const cleanups = await Promise.all([startCleanup(), startCleanup()]);
    const count = 400;
    const runAt = new Date(Date.now() + 3_000).toISOString();
    const submitted = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        request(port, 'POST', '/v1/jobs', { kind: 'factorize', input: { number: String(5000 + i) }, runAt }),
      ),
    );
    expect(submitted.every((r) => r.status === 202 && r.body.status === 'scheduled')).toBe(true);

    // Hold the jobs table until both promoters wait on it with every job due: the commit releases
    // both passes at the same moment over the same rows, however their ticks fall otherwise.
    const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(`lock table ${table('jobs')} in exclusive mode`);
      await waitFor('every job due and both promoters waiting', async () => {
        const { rows } = await db.query<{ n: number }>(
          `select count(distinct pid)::int as n from pg_locks where relation = $1::regclass and not granted`,
          [table('jobs')],
        );
        return Date.now() > Date.parse(runAt) && rows[0]!.n >= 2;
      });
      await holder.query('commit');
    } finally {
      await holder.end();
    }

    await waitFor(
      'every delayed job finished',
      async () => {
        const { rows } = await db.query<{ n: number }>(
          `select count(*)::int as n from ${table('jobs')} where status = 'succeeded'`,
        );
        return rows[0]!.n === count;
      },
      { timeoutMs: 30_000 },
    );
    const { rows: queuedEvents } = await db.query<{ events: number; attempts: number }>(
      `select (select count(*) from ${table('job_events')} e where e.job_id = j.id and e.status = 'queued')::int as events,
         j.attempts from ${table('jobs')} j`,
    );
    expect(queuedEvents).toHaveLength(count);
    expect(queuedEvents.every((row) => row.events === 1 && row.attempts === 1)).toBe(true);
    const promotedBy = cleanups.map((p) =>
      entries(p)
        .filter((e) => e.message === 'delayed jobs queued')
        .reduce((sum, e) => sum + (e.jobs ?? 0), 0),
    );
    expect(promotedBy[0]! + promotedBy[1]!).toBe(count);
    expect(promotedBy.every((n) => n > 0)).toBe(true);
    for (const p of cleanups) expect(troubles(p)).toEqual([]);
  });

  it('makes exactly one job per tick with both schedulers running, even when a tick is replayed', async () => {
    const { body: schedule } = await request(port, 'POST', '/v1/schedules', {
      cron: '* * * * * *',
      kind: 'factorize',
      input: { number: '91' },
      overlap: 'allow',
      catchUp: 'latest',
    });
    const ticksOf = async () =>
      (
        await db.query<{ custom_id: string; n: number }>(
          `select custom_id, count(*)::int as n from ${table('jobs')} where custom_id like $1 group by custom_id order by custom_id`,
          [`schedule:${schedule.id}:%`],
        )
      ).rows;
    await waitFor('five ticks', async () => (await ticksOf()).length >= 5, { timeoutMs: 15_000 });
    // As if a replica's pass had committed its job but its schedule update were lost: the tick
    // comes round again, and its job's key makes the second insert a no-op.
    const { rows } = await db.query<{ tick: string }>(
      `update ${table('schedules')} set next_run_at = last_tick_at where id = $1 returning last_tick_at::text as tick`,
      [schedule.id],
    );
    expect(rows).toHaveLength(1);
    const replayedFrom = (await ticksOf()).length;
    await waitFor('two more ticks', async () => (await ticksOf()).length >= replayedFrom + 2, {
      timeoutMs: 15_000,
    });
    await request(port, 'DELETE', `/v1/schedules/${schedule.id}`);

    const ticks = await ticksOf();
    expect(ticks.every((tick) => tick.n === 1)).toBe(true);
    const seconds = ticks.map((tick) => Date.parse(tick.custom_id.split(':').slice(2).join(':')) / 1000);
    // No tick twice, none missing.
    expect(seconds).toEqual(seconds.map((_, i) => seconds[0]! + i));
  });

  it('after both were down, catchUp none drops the missed ticks and latest runs only the newest one', async () => {
    const create = (catchUp: string) =>
      request(port, 'POST', '/v1/schedules', {
        cron: '* * * * * *',
        kind: 'factorize',
        input: { number: catchUp === 'none' ? '93' : '95' },
        overlap: 'allow',
        catchUp,
      });
    // Two schedulers, as the tests before leave them (started here when this test runs alone).
    const running = processes.filter((p) => !p.exited);
    if (running.length < 2)
      await Promise.all(Array.from({ length: 2 - running.length }, () => startCleanup()));
    const none = (await create('none')).body;
    const latest = (await create('latest')).body;
    const ticksOf = async (id: string) =>
      (
        await db.query<{ tick: Date; created_at: Date }>(
          `select substr(custom_id, length('schedule:') + 38)::timestamptz as tick, created_at from ${table('jobs')}
           where custom_id like $1 order by 1`,
          [`schedule:${id}:%`],
        )
      ).rows;
    await waitFor(
      'both schedules ticking',
      async () => (await ticksOf(none.id)).length >= 2 && (await ticksOf(latest.id)).length >= 2,
    );

    for (const p of processes) await p.stop();
    const lastBefore = new Map<string, number>();
    for (const id of [none.id, latest.id]) lastBefore.set(id, (await ticksOf(id)).at(-1)!.tick.getTime());
    const stoppedAt = Date.now();
    // Downtime: several ticks of both schedules pass with no scheduler running.
    await waitFor('3.5 s of downtime', () => Date.now() - stoppedAt > 3_500, { timeoutMs: 10_000 });
    const graceMs = 300;
    const back = await startCleanup({ SCHEDULE_MISFIRE_GRACE_MS: String(graceMs) });
    const afterDowntime = async (id: string) => {
      const jobs = await waitFor(`schedule ${id} ticking again`, async () => {
        const found = (await ticksOf(id)).filter((job) => job.tick.getTime() > lastBefore.get(id)!);
        return found.length >= 2 ? found : undefined;
      });
      // The first pass after the restart made the first of these; ticks older than its time
      // minus the grace were missed.
      const firstPassAt = Math.min(...jobs.map((job) => job.created_at.getTime()));
      return jobs.filter((job) => job.tick.getTime() < firstPassAt - graceMs);
    };
    expect(await afterDowntime(none.id)).toEqual([]);
    const caughtUp = await afterDowntime(latest.id);
    expect(caughtUp).toHaveLength(1);
    // The newest missed tick, not the first: the ones before it were dropped.
    expect(caughtUp[0]!.tick.getTime()).toBeGreaterThan(lastBefore.get(latest.id)! + 1_000);
    for (const id of [none.id, latest.id]) await request(port, 'DELETE', `/v1/schedules/${id}`);
    expect(troubles(back)).toEqual([]);
  });
});
