import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { z } from 'zod';
import { loadConfig, sleep } from '@conveyor/platform';
import { BrokerProbe, HttpStub, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import { defineJob, loadJobDefinitions, PermanentJobError } from '@conveyor/worker';
import { ConsumerEnv } from '../../services/consumer/src/config.js';
import { ConsumerApp } from '../../services/consumer/src/consumer-app.js';
import {
  cleanupApp,
  createIsolatedEnv,
  jobFinished,
  notifierApp,
  postCallback,
  producerApp,
  request,
  testLogger,
  WEBHOOK_SECRET,
  type IsolatedEnv,
} from '../harness.js';
import { scrape, sumOf, type Sample } from './prometheus-text.js';

/** A kind hosted in this process: sleeps as long as asked, then succeeds or fails for good. */
const probeJob = defineJob({
  kind: 'metrics-probe',
  version: 1,
  input: z.strictObject({ sleepMs: z.number().int().min(0), fail: z.boolean() }),
  result: z.object({ sleptMs: z.number() }),
  concurrency: 4,
  timeoutMs: 10_000,
  retry: { maxAttempts: 1 },
  async run(input, ctx) {
    await sleep(input.sleepMs, ctx.signal);
    if (input.fail) throw new PermanentJobError('asked to fail', { code: 'probe_failed' });
    return { sleptMs: input.sleepMs };
  },
});

/** Every service of this file, in this process, on the file's own schema and vhost prefix. */
describe('what the services export at /metrics', () => {
  let isolated: IsolatedEnv;
  let upstream: HttpStub;
  let db: pg.Client;
  let probe: BrokerProbe;
  let producer: ReturnType<typeof producerApp>;
  let consumer: ConsumerApp;
  let cleanup: ReturnType<typeof cleanupApp>;
  let notifier: ReturnType<typeof notifierApp>;
  const running: { stop(): Promise<void> }[] = [];
  /** Object ids sent in callbacks so far: each becomes one object check. */
  let idsPosted = 0;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('metrics');
    upstream = await HttpStub.start((req, res) => {
      const id = Number(req.url?.split('/').pop());
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id, online: true }));
    });
    const env = {
      ...isolated.env,
      OBJECTS_API_URL: upstream.url,
      BUILT_IN_KINDS: 'object-check,factorize',
      FACTORIZE_WORKERS: '1',
      ACK_HOLD_MS: '0',
      JOB_ACK_HOLD_MS: '0',
      JOB_CHECK_INTERVAL_MS: '100',
      WEBHOOK_SECRET,
    };
    producer = producerApp(env);
    consumer = new ConsumerApp(loadConfig(ConsumerEnv, { OPS_PORT: '0', ...env }), testLogger('consumer'), {
      jobModules: loadJobDefinitions([probeJob], 'the metrics test'),
    });
    cleanup = cleanupApp(env);
    notifier = notifierApp(env);
    for (const app of [producer, consumer, cleanup, notifier]) {
      await app.start();
      running.unshift(app);
    }
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    probe = await BrokerProbe.open();
  });

  afterAll(async () => {
    for (const app of running.splice(0)) await app.stop();
    await probe?.close();
    await db?.end();
    await upstream?.stop();
    await isolated?.dispose();
  });

  const stopApp = async (app: { stop(): Promise<void> }) => {
    running.splice(running.indexOf(app), 1);
    await app.stop();
  };

  /** A metric's value after minus before, for the samples matching `labels`. */
  const moved = (before: Sample[], after: Sample[], name: string, labels: Record<string, string>) =>
    sumOf(after, name, labels) - sumOf(before, name, labels);

  it('drops the event-loop gauge that reset on every scrape; prom-client exports the lag percentiles', async () => {
    for (const app of [producer, consumer, cleanup, notifier]) {
      const { text } = await scrape(app.opsPort);
      expect(text).not.toContain('conveyor_event_loop_delay_p99_seconds');
      expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds\{service="\w+"\} \d/m);
    }
  });

  it('counts jobs submitted, started and finished per kind and status, and times their queue wait, run and whole life', async () => {
    const producerBefore = (await scrape(producer.opsPort)).samples;
    const consumerBefore = (await scrape(consumer.opsPort)).samples;
    const submit = async (kind: string, input: unknown, customId?: string) => {
      const response = await request(producer.port, 'POST', '/v1/jobs', { kind, input, customId });
      expect([200, 202]).toContain(response.status);
      return response.body.id as string;
    };
    const ids = [
      await submit('factorize', { number: '15' }),
      await submit('factorize', { number: '1000000016000000063' }, 'metrics-once'),
      // The same customId and request again: the existing job, not a second submission.
      await submit('factorize', { number: '1000000016000000063' }, 'metrics-once'),
      await submit('metrics-probe', { sleepMs: 0, fail: false }),
      // Past JOB_RUNNING_AFTER_MS (100 ms): `running` commits on its own before the end.
      await submit('metrics-probe', { sleepMs: 300, fail: false }),
      await submit('metrics-probe', { sleepMs: 50, fail: true }),
    ];
    expect(new Set(ids).size).toBe(5);
    const finished = await Promise.all([...new Set(ids)].map((id) => jobFinished(producer.port, id)));
    expect(finished.map((job: { kind: string; status: string }) => `${job.kind} ${job.status}`)).toEqual([
      'factorize succeeded',
      'factorize succeeded',
      'metrics-probe succeeded',
      'metrics-probe succeeded',
      'metrics-probe failed',
    ]);

    const producerAfter = (await scrape(producer.opsPort)).samples;
    expect(moved(producerBefore, producerAfter, 'conveyor_jobs_submitted_total', { kind: 'factorize' })).toBe(
      2,
    );
    expect(
      moved(producerBefore, producerAfter, 'conveyor_jobs_submitted_total', { kind: 'metrics-probe' }),
    ).toBe(3);

    // A job's end is counted right after its commit, which the API may show a moment sooner.
    const expected = {
      factorize: { started: 2, succeeded: 2, failed: 0 },
      'metrics-probe': { started: 3, succeeded: 2, failed: 1 },
    };
    const consumerAfter = await waitFor('every end counted', async () => {
      const { samples } = await scrape(consumer.opsPort);
      const done = moved(consumerBefore, samples, 'conveyor_jobs_finished_total', {});
      return done >= 5 ? samples : undefined;
    });
    const delta = (name: string, labels: Record<string, string>) =>
      moved(consumerBefore, consumerAfter, name, labels);
    for (const [kind, counts] of Object.entries(expected)) {
      expect({ kind, started: delta('conveyor_jobs_started_total', { kind }) }).toEqual({
        kind,
        started: counts.started,
      });
      // Each job's first run observes its queue wait once.
      expect({ kind, waits: delta('conveyor_job_queue_wait_seconds_count', { kind }) }).toEqual({
        kind,
        waits: counts.started,
      });
      for (const status of ['succeeded', 'failed', 'cancelled'] as const) {
        const count = status === 'cancelled' ? 0 : counts[status];
        expect({
          kind,
          status,
          finished: delta('conveyor_jobs_finished_total', { kind, status }),
          runs: delta('conveyor_job_run_seconds_count', { kind, status }),
          lives: delta('conveyor_job_end_to_end_seconds_count', { kind, status }),
        }).toEqual({ kind, status, finished: count, runs: count, lives: count });
      }
    }
    // The histograms hold the right durations: the probes slept 0 + 300 ms, and a life holds its run.
    const succeededProbe = { kind: 'metrics-probe', status: 'succeeded' };
    const runSum = delta('conveyor_job_run_seconds_sum', succeededProbe);
    const lifeSum = delta('conveyor_job_end_to_end_seconds_sum', succeededProbe);
    expect(runSum).toBeGreaterThanOrEqual(0.3);
    expect(runSum).toBeLessThan(5);
    expect(lifeSum).toBeGreaterThanOrEqual(runSum);
    // The 300 ms run lands in the buckets from 0.5 s on, not in the 0.25 s one.
    const bucket = (le: string) => delta('conveyor_job_run_seconds_bucket', { ...succeededProbe, le });
    expect(bucket('0.25')).toBe(1);
    expect(bucket('0.5')).toBe(2);
    expect(bucket('+Inf')).toBe(2);
  });

  it('times HTTP requests per method, route pattern and status, never per raw path', async () => {
    const unknownJob = randomUUID();
    expect((await request(producer.port, 'GET', `/v1/jobs/${unknownJob}`)).status).toBe(404);
    expect((await request(producer.port, 'GET', '/no/such/route')).status).toBe(404);
    idsPosted += 3;
    expect(await postCallback(producer.port, { object_ids: [1, 2, 3] })).toEqual({
      status: 200,
      body: { accepted: 3 },
    });
    const { text, samples } = await scrape(producer.opsPort);
    const count = (labels: Record<string, string>) =>
      sumOf(samples, 'conveyor_http_request_duration_seconds_count', labels);
    expect(count({ method: 'POST', route: '/v1/jobs', status: '202' })).toBe(5);
    expect(count({ method: 'POST', route: '/v1/jobs', status: '200' })).toBe(1);
    expect(count({ method: 'GET', route: '/v1/jobs/:id', status: '200' })).toBeGreaterThanOrEqual(5);
    expect(count({ method: 'GET', route: '/v1/jobs/:id', status: '404' })).toBe(1);
    expect(count({ method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(count({ method: 'POST', route: '/callback', status: '200' })).toBe(1);
    expect(text).not.toContain(unknownJob);
    expect(text).not.toContain('/no/such/route');
    // The counter and the histogram count the same requests.
    expect(sumOf(samples, 'conveyor_http_requests_total')).toBe(
      sumOf(samples, 'conveyor_http_request_duration_seconds_count'),
    );
  });

  it("counts the object checks on the consumer's queue", async () => {
    const queue = `${isolated.prefix}.object.check`;
    // The previous test's callback may still be in flight: start once its checks are acked.
    const before = await waitFor('earlier checks acked', async () => {
      const { samples } = await scrape(consumer.opsPort);
      return sumOf(samples, 'conveyor_messages_acked_total', { queue }) === idsPosted ? samples : undefined;
    });
    expect(await postCallback(producer.port, { object_ids: [10, 11, 12, 13] })).toEqual({
      status: 200,
      body: { accepted: 4 },
    });
    const after = await waitFor('four checks acked', async () => {
      const { samples } = await scrape(consumer.opsPort);
      return moved(before, samples, 'conveyor_messages_acked_total', { queue }) >= 4 ? samples : undefined;
    });
    expect(moved(before, after, 'conveyor_messages_consumed_total', { queue })).toBe(4);
    expect(moved(before, after, 'conveyor_messages_acked_total', { queue })).toBe(4);
    expect(moved(before, after, 'conveyor_message_processing_seconds_count', { queue, outcome: 'ack' })).toBe(
      4,
    );
  });

  it('counts a run the client cancelled as cancelled', async () => {
    const kind = { kind: 'metrics-probe', status: 'cancelled' };
    const before = (await scrape(consumer.opsPort)).samples;
    const submitted = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'metrics-probe',
      input: { sleepMs: 10_000, fail: false },
    });
    const id = submitted.body.id as string;
    await waitFor('the run committed as running', async () => {
      const { body } = await request(producer.port, 'GET', `/v1/jobs/${id}`);
      return body.status === 'running';
    });
    expect((await request(producer.port, 'DELETE', `/v1/jobs/${id}`)).status).toBe(202);
    expect((await jobFinished(producer.port, id)).status).toBe('cancelled');
    const after = await waitFor('the end counted', async () => {
      const { samples } = await scrape(consumer.opsPort);
      return moved(before, samples, 'conveyor_jobs_finished_total', kind) === 1 ? samples : undefined;
    });
    expect(moved(before, after, 'conveyor_job_run_seconds_count', kind)).toBe(1);
    expect(moved(before, after, 'conveyor_job_end_to_end_seconds_count', kind)).toBe(1);
    expect(moved(before, after, 'conveyor_jobs_started_total', { kind: 'metrics-probe' })).toBe(1);
  });

  it("reports on the cleanup's scrape the outbox rows, pending webhook deliveries and dead letters there are", async () => {
    // Without the relays and the notifier nothing drains what this test puts in.
    await stopApp(notifier);
    await stopApp(consumer);
    await stopApp(producer);
    const schema = `"${isolated.schema}"`;
    const gauges = async () => {
      const { samples } = await scrape(cleanup.opsPort);
      return {
        outbox: sumOf(samples, 'conveyor_outbox_messages'),
        deliveries: sumOf(samples, 'conveyor_webhook_deliveries_pending'),
        deadLetters: sumOf(samples, 'conveyor_dead_letter_messages'),
      };
    };
    const count = async (sql: string) => Number((await db.query<{ n: string }>(sql)).rows[0]!.n);
    const before = await gauges();
    expect(before).toEqual({
      outbox: await count(`select count(*) as n from ${schema}.outbox`),
      deliveries: await count(
        `select count(*) as n from ${schema}.webhook_deliveries where status in ('pending', 'sending')`,
      ),
      // The probe that failed for good was dead-lettered, and nothing else.
      deadLetters: 1,
    });
    // The cleanup's intake has moved it from the queue into PostgreSQL, where the gauge counts it.
    await waitFor(
      'the dead letter moved to PostgreSQL',
      async () => (await count(`select count(*) as n from ${schema}.dead_letters`)) === 1,
    );
    expect((await probe.queue(`${isolated.prefix}.dead-letter`)).ready).toBe(0);

    const jobId = randomUUID();
    await db.query(
      `insert into ${schema}.outbox (exchange, routing_key, message_id, body) values ('nowhere', 'nothing', $1, '{}')`,
      [randomUUID()],
    );
    await db.query(
      `insert into ${schema}.jobs (id, client_id, kind, request_hash, input, status) values ($1, 'default', 'factorize', 'metrics', '{}', 'queued')`,
      [jobId],
    );
    await db.query(
      `insert into ${schema}.webhook_deliveries (id, job_id, client_id, sequence, url, payload, status, next_attempt_at)
       values ($1, $2, 'default', 1, 'http://127.0.0.1:9/hook', '{}', 'pending', now() + interval '1 hour')`,
      [`msg_${randomUUID()}`, jobId],
    );
    expect(await gauges()).toEqual({
      outbox: before.outbox + 1,
      deliveries: before.deliveries + 1,
      deadLetters: 1,
    });

    // Read at every scrape, never kept: gone rows are gone from the next figures.
    await db.query(`delete from ${schema}.outbox where exchange = 'nowhere'`);
    await db.query(`delete from ${schema}.jobs where id = $1`, [jobId]);
    await db.query(`delete from ${schema}.dead_letters`);
    expect(await gauges()).toEqual({ ...before, deadLetters: 0 });
  });
});
