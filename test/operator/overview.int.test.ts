import pg from 'pg';
import { TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import { consumerApp, createIsolatedEnv, producerApp, request, type IsolatedEnv } from '../harness.js';
import { readEvents, scriptedConsumer, scripts } from './operator-kit.js';

type Bucket = {
  minute: string;
  submitted: number;
  succeeded: number;
  failed: number;
  queueWaitMs: { p50: number; p95: number } | null;
  runMs: { p50: number; p95: number } | null;
};

/**
 * The dashboard's reads against jobs this test ran: workers, the overview, the per-minute time
 * series and the live stream; and a producer stopping with a stream open does not wait on it.
 */
describe('workers, overview, timeseries and live', () => {
  let isolated: IsolatedEnv;
  let env: Record<string, string>;
  let db: pg.Client;
  let port: number;
  let producer: ReturnType<typeof producerApp>;
  const apps: { start(): Promise<void>; stop(): Promise<void> }[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('opoverview');
    env = {
      ...isolated.env,
      JOB_CHECK_INTERVAL_MS: '100',
      WORKER_HEARTBEAT_MS: '200',
      WORKER_ALIVE_WINDOW_MS: '2000',
    };
    producer = producerApp(env);
    apps.push(producer, consumerApp({ ...env, BUILT_IN_KINDS: 'factorize' }), scriptedConsumer(env));
    for (const app of apps) await app.start();
    port = producer.port;
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    scripts.set('overview-fails', ['fail']);
    const submissions = [
      { kind: 'factorize', input: { number: '91' } },
      { kind: 'factorize', input: { number: '1234' } },
      { kind: 'factorize', input: { number: '97' } },
      { kind: 'scripted', input: { key: 'overview-ok' } },
      { kind: 'scripted', input: { key: 'overview-fails' } },
    ];
    for (const submission of submissions)
      ids.push((await request(port, 'POST', '/v1/jobs', submission)).body.id);
    await waitFor('every job finished', async () => {
      const { rows } = await db.query(
        `select count(*)::int as n from "${isolated.schema}".jobs where status in ('succeeded', 'failed')`,
      );
      return rows[0].n === submissions.length;
    });
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop();
    await db.end();
    await isolated.dispose();
  });

  it('lists worker hosts with their kinds, a silent one as not alive', async () => {
    await db.query(
      `insert into "${isolated.schema}".worker_hosts (id, hostname, pid, kinds, last_heartbeat_at) values ('gone-1', 'old-box', 1, '{factorize}', now() - interval '1 minute')`,
    );
    const { status, body } = await request(port, 'GET', '/v1/workers');
    expect(status).toBe(200);
    const alive = body.workers.filter((worker: { alive: boolean }) => worker.alive);
    expect(alive.map((worker: { kinds: string[] }) => worker.kinds).sort()).toEqual([
      ['factorize'],
      ['scripted'],
    ]);
    expect(alive[0]).toMatchObject({ pid: process.pid, inFlight: 0 });
    expect(body.workers.find((worker: { id: string }) => worker.id === 'gone-1')).toMatchObject({
      hostname: 'old-box',
      alive: false,
    });
  });

  it("gives every client's counts and the backlogs", async () => {
    await db.query(
      `insert into "${isolated.schema}".objects (id, last_seen) values (1, '2026-12-08T00:00:00Z'), (2, '2026-12-08T00:00:05Z')`,
    );
    const { body } = await request(port, 'GET', '/v1/overview');
    expect(body.jobs.byStatus).toMatchObject({ succeeded: 4, failed: 1, queued: 0, running: 0 });
    expect(body.jobs.byKind.factorize.succeeded).toBe(3);
    expect(body.jobs.inProgress).toBe(0);
    expect(body.objects).toEqual({
      count: 2,
      oldestSeenAt: '2026-12-08T00:00:00.000Z',
      newestSeenAt: '2026-12-08T00:00:05.000Z',
    });
    expect(body).toMatchObject({ deadLetters: 0, pendingWebhookDeliveries: 0 });
    expect(body.outboxDepth).toBeGreaterThanOrEqual(0);
    expect(Math.abs(Date.parse(body.at) - Date.now())).toBeLessThan(60_000);
  });

  it('gives per-minute throughput matching the jobs run, every minute present', async () => {
    const { body } = await request(port, 'GET', '/v1/overview/timeseries?minutes=5');
    const buckets: Bucket[] = body.buckets;
    expect(buckets).toHaveLength(5);
    const minutes = buckets.map((bucket) => Date.parse(bucket.minute));
    for (let i = 1; i < minutes.length; i++) expect(minutes[i]! - minutes[i - 1]!).toBe(60_000);
    const sum = (pick: (bucket: Bucket) => number) =>
      buckets.reduce((total, bucket) => total + pick(bucket), 0);
    expect(sum((bucket) => bucket.submitted)).toBe(5);
    expect(sum((bucket) => bucket.succeeded)).toBe(4);
    expect(sum((bucket) => bucket.failed)).toBe(1);
    const withRuns = buckets.filter((bucket) => bucket.runMs !== null);
    expect(withRuns.length).toBeGreaterThan(0);
    for (const bucket of withRuns) expect(bucket.runMs!.p95).toBeGreaterThanOrEqual(bucket.runMs!.p50);
    expect(buckets.some((bucket) => bucket.queueWaitMs !== null)).toBe(true);
    const { rows } = await db.query(`select date_trunc('minute', now()) as minute`);
    expect(buckets[4]!.minute).toBe((rows[0].minute as Date).toISOString());

    const factorize: Bucket[] = (
      await request(port, 'GET', '/v1/overview/timeseries?minutes=5&kind=factorize')
    ).body.buckets;
    expect(factorize.reduce((total, bucket) => total + bucket.submitted, 0)).toBe(3);
    expect(factorize.reduce((total, bucket) => total + bucket.failed, 0)).toBe(0);
  });

  it('reads the time series through the created_at index', async () => {
    await db.query('begin');
    try {
      // The table is tiny here, so make a sequential scan unattractive and see what else the
      // planner finds for the series' bound (the same expression timeseries.repository.ts uses).
      await db.query('set local enable_seqscan = off');
      const { rows } = await db.query(
        `explain select created_at, started_at, finished_at, status from "${isolated.schema}".jobs
         where created_at >= date_trunc('minute', now()) - make_interval(mins => 59) - make_interval(secs => 3600)`,
      );
      expect(rows.map((row: { 'QUERY PLAN': string }) => row['QUERY PLAN']).join('\n')).toContain(
        'jobs_created_at_idx',
      );
    } finally {
      await db.query('rollback');
    }
  });

  it('streams the overview and job changes live', async () => {
    let submitted = false;
    const live = await readEvents(`http://127.0.0.1:${port}/v1/live`, {
      timeoutMs: 15_000,
      until: (events) => {
        if (!submitted && events.some((event) => event.event === 'overview')) {
          submitted = true;
          void request(port, 'POST', '/v1/jobs', { kind: 'factorize', input: { number: '35' } });
        }
        return events.some(
          (event) =>
            event.event === 'job' &&
            (event.data as { status: string; input: { number: string } }).input.number === '35' &&
            (event.data as { status: string }).status === 'succeeded',
        );
      },
    });
    expect(live.status).toBe(200);
    // The viewer went away: its stream is gone from the server too.
    await waitFor('the stream closed on the server', () => producer.openLiveStreams === 0);
    const overview = live.events.find((event) => event.event === 'overview')!.data as {
      jobs: { byStatus: { succeeded: number } };
    };
    expect(overview.jobs.byStatus.succeeded).toBeGreaterThanOrEqual(4);
    expect(live.events.filter((event) => event.event === 'job').length).toBeGreaterThan(0);
  });

  it('ends open streams when the producer stops, without waiting on them', async () => {
    const stopping = producerApp(env);
    await stopping.start();
    const streams = [
      readEvents(`http://127.0.0.1:${stopping.port}/v1/live`, { timeoutMs: 20_000 }),
      readEvents(`http://127.0.0.1:${stopping.port}/v1/jobs/${ids[0]}/live`, { timeoutMs: 20_000 }),
    ];
    await new Promise((resolve) => setTimeout(resolve, 500));
    const startedAt = Date.now();
    await stopping.stop();
    expect(stopping.openLiveStreams).toBe(0);
    expect(Date.now() - startedAt).toBeLessThan(3_000);
    const [overall] = await Promise.all(streams);
    expect(overall!.ended).toBe(true);
    expect(overall!.events.some((event) => event.event === 'overview')).toBe(true);
  });
});
