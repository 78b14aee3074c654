import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { BrokerProbe, ServiceProcess, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import {
  createIsolatedEnv,
  jobFinished,
  notifierApp,
  producerApp,
  request,
  type IsolatedEnv,
} from '../harness.js';
import { Receiver, verifySignature } from '../webhooks/receiver.js';

const SECRET = 'whsec_' + Buffer.from('job-kinds-test-secret-0123456789').toString('base64');
const FIXTURES = resolve(__dirname, '../fixtures/job-modules');
const moduleUrl = (file: string) => pathToFileURL(resolve(FIXTURES, file)).href;
/** How `pnpm worker` loads TypeScript modules, in the process and its worker threads. */
const TSX_LOADER = pathToFileURL(
  createRequire(resolve(__dirname, '../../services/consumer/package.json')).resolve('tsx'),
).href;

/**
 * Job kinds brought as modules from outside services/ and packages/ (a plain .mjs one and a
 * TypeScript one), hosted by real worker processes started from the build, as `pnpm worker` does.
 */
describe('job modules on worker hosts', () => {
  let isolated: IsolatedEnv;
  let producer: ReturnType<typeof producerApp>;
  let notifier: ReturnType<typeof notifierApp>;
  let receiver: Receiver;
  let probe: BrokerProbe;
  let db: pg.Client;
  const hosts: ServiceProcess[] = [];
  let port: number;
  let hostEnv: Record<string, string>;

  const startHost = async (modules: string[]) => {
    const host = ServiceProcess.start('consumer', {
      ...hostEnv,
      WORKER_MODULES: modules.map(moduleUrl).join(','),
    });
    hosts.push(host);
    await host.waitForLog(/consumer started/);
    return host;
  };

  beforeAll(async () => {
    isolated = await createIsolatedEnv('jobkinds');
    const env = {
      ...isolated.env,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      DISPATCH_POLL_MS: '50',
    };
    hostEnv = {
      ...env,
      LOG_LEVEL: 'info',
      OPS_PORT: '0',
      BUILT_IN_KINDS: 'false',
      JOB_CHECK_INTERVAL_MS: '100',
      JOB_THREADS: '1',
      WORKER_HEARTBEAT_MS: '500',
      NODE_OPTIONS: `--import=${TSX_LOADER}`,
    };
    producer = producerApp(env);
    notifier = notifierApp(env);
    await producer.start();
    await notifier.start();
    port = producer.port;
    receiver = await new Receiver().start();
    probe = await BrokerProbe.open();
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
    await startHost(['echo.mjs', 'spin.ts']);
  });

  afterAll(async () => {
    for (const host of hosts) await host.stop();
    await notifier.stop();
    await producer.stop();
    await receiver.stop();
    await probe.close();
    await db.end();
    await isolated.dispose();
  });

  const submit = (kind: string, input: unknown, extra: Record<string, unknown> = {}) =>
    request(port, 'POST', '/v1/jobs', { kind, input, ...extra });

  it('registers the kinds, accepts them, runs them, stores the result and pushes signed webhooks', async () => {
    const { rows } = await db.query(
      `select kind, version, concurrency, isolation from "${isolated.schema}".job_kinds order by kind`,
    );
    expect(rows).toEqual([
      { kind: 'echo', version: 1, concurrency: 2, isolation: 'inline' },
      { kind: 'spin', version: 1, concurrency: 1, isolation: 'thread' },
    ]);
    const openapi = await request(port, 'GET', '/openapi.json');
    expect(openapi.body.components.schemas['echo.input'].required).toEqual(['text']);
    expect(openapi.body.components.schemas['spin.result'].properties).toHaveProperty('loops');

    const submitted = await submit('echo', { text: 'hello' }, { callbackUrl: receiver.url });
    expect(submitted.status).toBe(202);
    const job = await jobFinished(port, submitted.body.id);
    expect(job).toMatchObject({ status: 'succeeded', attempts: 1, result: { text: 'HELLO', attempt: 1 } });

    const pushes = await waitFor('the final push', () => {
      const received = receiver.forJob(job.id);
      return received.some((w) => w.payload.status === 'succeeded') ? received : undefined;
    });
    expect(pushes.map((w) => w.payload.status)).toEqual(
      ['queued', 'running', 'succeeded'].filter((s) => pushes.some((w) => w.payload.status === s)),
    );
    for (const push of pushes)
      expect(verifySignature(SECRET, push.id, push.timestamp, push.body, push.signatures.join(' '))).toBe(
        true,
      );

    const spun = await submit('spin', { ms: 50 });
    const spunJob = await jobFinished(port, spun.body.id);
    expect(spunJob.error).toBeNull();
    expect(spunJob).toMatchObject({ status: 'succeeded', result: { spunMs: expect.any(Number) } });
  });

  it('refuses bad input with 422 naming the field, and an unknown kind with 422 listing the kinds', async () => {
    const bad = await submit('echo', { text: 42, extra: true });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual([
      'body.input.extra',
      'body.input.text',
    ]);
    const zodKind = await submit('spin', { ms: 0 });
    expect(zodKind.status).toBe(422);
    expect(zodKind.body.error.details[0].path).toBe('body.input.ms');
    const unknown = await submit('sepia', {});
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.message).toContain('csv-sum, echo, factorize, image-resize, spin');
  });

  it('retries a throwing run with the kind backoff, then fails it and dead-letters the message', async () => {
    const recovered = await submit('echo', { text: 'third time', failTimes: 2 });
    expect(await jobFinished(port, recovered.body.id)).toMatchObject({
      status: 'succeeded',
      attempts: 3,
      result: { attempt: 3 },
    });

    const doomed = await submit('echo', { text: 'never', failTimes: 5 });
    expect(await jobFinished(port, doomed.body.id)).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: { code: 'job_failed', message: 'attempt 3 failed on purpose' },
    });
    const dead = await waitFor('the message in the dead-letter queue', async () => {
      const drained = await probe.drain(`${isolated.prefix}.dead-letter`);
      return drained.find((m) => JSON.stringify(m.body).includes(doomed.body.id));
    });
    expect(dead.headers['x-original-queue']).toBe(`${isolated.prefix}.job.echo`);
  });

  it('fails a permanent error at once, and a "retry later" waits for its tier', async () => {
    const permanent = await submit('echo', { text: 'x', permanent: true });
    expect(await jobFinished(port, permanent.body.id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'refused' },
    });
    const later = await submit('echo', { text: 'later', failTimes: 1, retryAfterMs: 50 });
    expect(await jobFinished(port, later.body.id)).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('reaches ctx.signal on cancellation and on timeout', async () => {
    const long = await submit('echo', { text: 'long', sleepMs: 20_000 });
    await waitFor(
      'the job running',
      async () => (await request(port, 'GET', `/v1/jobs/${long.body.id}`)).body.status === 'running',
    );
    expect((await request(port, 'DELETE', `/v1/jobs/${long.body.id}`)).status).toBe(202);
    expect(await jobFinished(port, long.body.id, 5_000)).toMatchObject({ status: 'cancelled' });

    const slow = await submit('echo', { text: 'slow', sleepMs: 10_000 });
    expect(await jobFinished(port, slow.body.id, 10_000)).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'timeout' },
    });
  });

  it('keeps other kinds moving while a CPU-bound run spins in a thread', async () => {
    const spin = await submit('spin', { ms: 3_000 });
    await waitFor(
      'the spin running',
      async () => (await request(port, 'GET', `/v1/jobs/${spin.body.id}`)).body.status === 'running',
    );
    const echo = await submit('echo', { text: 'meanwhile' });
    const echoed = await jobFinished(port, echo.body.id, 10_000);
    const spun = await jobFinished(port, spin.body.id, 20_000);
    expect(echoed.status).toBe('succeeded');
    expect(Date.parse(echoed.finishedAt)).toBeLessThan(Date.parse(spun.finishedAt));
  });

  it('hands a job of a host killed mid-run to another host, which finishes it once', async () => {
    const second = await startHost(['echo.mjs', 'spin.ts']);
    const job = await submit('echo', { text: 'survivor', sleepMs: 2_000 });
    // The module reports its pid as its progress message: the test kills whichever host took it.
    const running = await waitFor('the job running', async () => {
      const { body } = await request(port, 'GET', `/v1/jobs/${job.body.id}`);
      return body.status === 'running' && body.progress.message?.startsWith('pid ') ? body : undefined;
    });
    const runner = hosts.find((host) => `pid ${host.pid}` === running.progress.message)!;
    const survivor = runner === second ? hosts[0]! : second;
    await runner.kill9();
    const finished = await jobFinished(port, job.body.id, 30_000);
    expect(finished).toMatchObject({ status: 'succeeded', result: { text: 'SURVIVOR', pid: survivor.pid } });
    const { rows } = await db.query(
      `select count(*)::int as n from "${isolated.schema}".job_events where job_id = $1 and status = 'succeeded'`,
      [job.body.id],
    );
    expect(rows[0].n).toBe(1);
    hosts.splice(hosts.indexOf(runner), 1);
  });

  it('shares one kind between two hosts', async () => {
    await startHost(['echo.mjs']);
    const ids = [];
    for (let i = 0; i < 12; i++) ids.push((await submit('echo', { text: `job ${i}`, sleepMs: 300 })).body.id);
    const jobs = await Promise.all(ids.map((id) => jobFinished(port, id, 30_000)));
    const pids = new Set(jobs.map((j) => j.result.pid));
    expect(pids.size).toBe(2);
    const { rows } = await db.query(
      `select count(*)::int as n from "${isolated.schema}".worker_hosts where 'echo' = any(kinds) and last_heartbeat_at > now() - interval '5 seconds'`,
    );
    expect(rows[0].n).toBeGreaterThanOrEqual(2);
  });

  it('refuses to start a host whose module changes a registered schema without a new version', async () => {
    const conflicting = ServiceProcess.start('consumer', {
      ...hostEnv,
      WORKER_MODULES: moduleUrl('echo-conflict.mjs'),
    });
    expect(await conflicting.waitForExit()).toBe(1);
    expect(conflicting.lines.join('\n')).toMatch(/kind_schema_conflict/);
  });
});
