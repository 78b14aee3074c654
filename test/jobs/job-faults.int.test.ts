import { topologyNames } from '@conveyor/contracts';
import { BrokerProbe, TEST_AMQP_URL, TEST_DATABASE_URL, waitFor } from '@conveyor/testkit';
import amqp from 'amqplib';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import {
  consumerApp,
  createIsolatedEnv,
  producerApp,
  request,
  VERY_SLOW_SEMIPRIME,
  type IsolatedEnv,
} from '../harness.js';

/** Cancellation of queued and running jobs, the timeout, and a redelivered message for a finished job. */
describe('job cancellation, timeout and redelivery', () => {
  let isolated: IsolatedEnv;
  let producer: ReturnType<typeof producerApp>;
  let consumer: ReturnType<typeof consumerApp> | undefined;
  let probe: BrokerProbe;
  let db: pg.Client;
  let port: number;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('jobfaults');
    producer = producerApp(isolated.env);
    await producer.start();
    port = producer.port;
    probe = await BrokerProbe.open();
    db = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await consumer?.stop();
    await producer.stop();
    await probe.close();
    await db.end();
    await isolated.dispose();
  });

  const startConsumer = async (env: Record<string, string> = {}) => {
    await consumer?.stop();
    consumer = consumerApp({ ...isolated.env, JOB_CHECK_INTERVAL_MS: '100', ...env });
    await consumer.start();
  };
  const jobOf = async (id: string) => (await request(port, 'GET', `/v1/jobs/${id}`)).body;
  const names = () => topologyNames(isolated.prefix);

  it('never runs a job cancelled while queued', async () => {
    const { body: job } = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '1234' },
    });
    const cancelled = await request(port, 'DELETE', `/v1/jobs/${job.id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    await startConsumer();
    await waitFor(
      'its message consumed',
      async () => (await probe.queue(names().workQueue('job.factorize'))).ready === 0,
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await jobOf(job.id)).toMatchObject({ status: 'cancelled', attempts: 0, result: null });
  });

  it('stops a running job at its next check and ends it cancelled', async () => {
    await startConsumer();
    const { body: job } = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: VERY_SLOW_SEMIPRIME.n },
    });
    await waitFor('running', async () => (await jobOf(job.id)).status === 'running');
    const requestedAt = Date.now();
    const response = await request(port, 'DELETE', `/v1/jobs/${job.id}`);
    expect(response.status).toBe(202);
    await waitFor('cancelled', async () => (await jobOf(job.id)).status === 'cancelled', {
      timeoutMs: 10_000,
    });
    expect(Date.now() - requestedAt).toBeLessThan(5_000);
    expect((await request(port, 'DELETE', `/v1/jobs/${job.id}`)).status).toBe(200);
  });

  it('fails a factorization that outlives FACTORIZE_TIMEOUT_MS with a timeout error and dead-letters it', async () => {
    await startConsumer({ FACTORIZE_TIMEOUT_MS: '500' });
    const { body: job } = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: VERY_SLOW_SEMIPRIME.n },
    });
    await waitFor('failed', async () => (await jobOf(job.id)).status === 'failed', { timeoutMs: 15_000 });
    const failed = await jobOf(job.id);
    expect(failed.error).toEqual({
      code: 'timeout',
      // The SDK's deadline and the thread's own (FACTORIZE_TIMEOUT_MS) are the same: either may say it.
      message: expect.stringMatching(/FACTORIZE_TIMEOUT_MS \(500 ms\)|timed out after 500 ms/),
    });
    expect((await request(port, 'DELETE', `/v1/jobs/${job.id}`)).status).toBe(409);
    const deadLetters = await waitFor('dead-lettered', async () => {
      const messages = await probe.drain(names().deadLetterQueue);
      return messages.length > 0 ? messages : undefined;
    });
    expect(deadLetters[0]!.headers['x-error-code']).toBe('timeout');
  });

  it('does not run a finished job again when its message is redelivered, but republishes its final event', async () => {
    // Every job's events on the exchange (by default only those of jobs with a callbackUrl).
    await startConsumer({ JOB_EVENTS: 'all' });
    const { body: job } = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '4321' },
    });
    await waitFor('succeeded', async () => (await jobOf(job.id)).status === 'succeeded');
    const { rows } = await db.query(
      `select event_id from "${isolated.schema}".job_events where job_id = $1 and status = 'succeeded'`,
      [job.id],
    );
    const finalEventId = rows[0].event_id as string;
    await probe.drain(names().jobEventsQueue);

    // A duplicate of the work message, as a redelivery after a lost ack would be.
    const connection = await amqp.connect(TEST_AMQP_URL);
    const channel = await connection.createConfirmChannel();
    const envelope = {
      messageId: randomUUID(),
      kind: 'job.factorize',
      version: 1,
      createdAt: new Date().toISOString(),
      attempt: 0,
      correlationId: 'dup',
      payload: { jobId: job.id },
    };
    channel.publish(names().workExchange, 'job.factorize.v1', Buffer.from(JSON.stringify(envelope)), {
      persistent: true,
    });
    await channel.waitForConfirms();
    await connection.close();

    const events = await waitFor('final event republished', async () => {
      const messages = await probe.drain(names().jobEventsQueue);
      return messages.length > 0 ? messages : undefined;
    });
    expect(events.map((m) => (m.body as { payload: { eventId: string; status: string } }).payload)).toEqual([
      expect.objectContaining({ eventId: finalEventId, status: 'succeeded', jobId: job.id }),
    ]);
    expect(await jobOf(job.id)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });
});
