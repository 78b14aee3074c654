import { defineJob, loadJobDefinitions } from '@conveyor/worker';
import { waitFor } from '@conveyor/testkit';
import { z } from 'zod';
import {
  consumerApp,
  createIsolatedEnv,
  producerApp,
  request,
  VERY_SLOW_SEMIPRIME,
  type IsolatedEnv,
} from '../harness.js';

/** Every attempt of `always-busy` fails with a retryable error; its kind allows five attempts. */
const alwaysBusy = defineJob({
  kind: 'always-busy',
  input: z.strictObject({ n: z.number() }),
  retry: { maxAttempts: 5, backoff: { type: 'fixed', delayMs: 100 } },
  run() {
    throw new Error('busy, try again');
  },
});

/** A job's own timeout and retry policy on submit, within its kind's; every kind has a timeout. */
describe('per-job policy', () => {
  let isolated: IsolatedEnv;
  let port: number;
  const apps: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('jobpolicy', { jobKinds: ['always-busy'] });
    const env = { ...isolated.env, RETRY_DELAYS_MS: '100', JOB_DEFAULT_TIMEOUT_MS: '600000' };
    const producer = producerApp(env);
    await producer.start();
    apps.push(producer);
    port = producer.port;
    const consumer = consumerApp(
      { ...env, BUILT_IN_KINDS: 'factorize,csv-sum', FACTORIZE_TIMEOUT_MS: '120000' },
      { jobModules: loadJobDefinitions([alwaysBusy], 'the policy test') },
    );
    await consumer.start();
    apps.push(consumer);
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop();
    await isolated.dispose();
  });

  const finished = (id: string) =>
    waitFor(
      'the job finished',
      async () => {
        const { body } = await request(port, 'GET', `/v1/jobs/${id}`);
        return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
      },
      { timeoutMs: 30_000 },
    );

  it('stops a job at its own timeout, far below its kind’s', async () => {
    const { status, body } = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: VERY_SLOW_SEMIPRIME.n },
      timeoutMs: 300,
    });
    expect(status).toBe(202);
    expect(body.timeoutMs).toBe(300);
    const job = await finished(body.id);
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe('timeout');
    expect(Date.parse(job.finishedAt) - Date.parse(job.createdAt)).toBeLessThan(10_000);
  });

  it('ends a job after its own most attempts, fewer than its kind’s', async () => {
    const { body } = await request(port, 'POST', '/v1/jobs', {
      kind: 'always-busy',
      input: { n: 1 },
      retry: { maxAttempts: 2 },
    });
    expect(body.maxAttempts).toBe(2);
    const job = await finished(body.id);
    expect(job.status).toBe('failed');
    expect(job.attempts).toBe(2);
  });

  it('refuses more than the kind allows with a 422 naming the field', async () => {
    const longer = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '15' },
      timeoutMs: 120_001,
    });
    expect(longer.status).toBe(422);
    expect(longer.body.error).toMatchObject({ code: 'policy_exceeds_kind' });
    expect(longer.body.error.details).toEqual([
      { path: 'body.timeoutMs', message: "at most 120000 ms, the kind's timeout" },
    ]);
    const more = await request(port, 'POST', '/v1/jobs', {
      kind: 'always-busy',
      input: { n: 1 },
      retry: { maxAttempts: 6 },
    });
    expect(more.status).toBe(422);
    expect(more.body.error.details[0].path).toBe('body.retry.maxAttempts');
    const malformed = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '15' },
      timeoutMs: 0,
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details[0].path).toBe('body.timeoutMs');
  });

  it('gives a kind that names no timeout the default one, registered for the producer to check', async () => {
    // always-busy names no timeout: the host gave it JOB_DEFAULT_TIMEOUT_MS and registered that.
    const refused = await request(port, 'POST', '/v1/jobs', {
      kind: 'always-busy',
      input: { n: 1 },
      timeoutMs: 600_001,
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.details[0]).toEqual({
      path: 'body.timeoutMs',
      message: "at most 600000 ms, the kind's timeout",
    });
  });
});
