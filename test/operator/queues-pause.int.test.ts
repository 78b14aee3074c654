import { waitFor } from '@conveyor/testkit';
import { sleep } from '@conveyor/platform';
import {
  consumerApp,
  createIsolatedEnv,
  producerApp,
  QUICK_SEMIPRIME,
  request,
  type IsolatedEnv,
} from '../harness.js';

type Queue = {
  name: string;
  role: string;
  kind: string | null;
  messages: number;
  ready: number | null;
  consumers: number;
  paused: boolean;
};

/**
 * GET /v1/queues from AMQP, and pausing a kind: every worker host stops consuming its queue (the
 * job stays queued, the queue has no consumer), a host started while it is paused does not
 * consume it either, and resuming runs the job.
 */
describe('queues and pause', () => {
  let isolated: IsolatedEnv;
  let env: Record<string, string>;
  let producer: ReturnType<typeof producerApp>;
  let consumer: ReturnType<typeof consumerApp>;
  let port: number;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('opqueues');
    env = { ...isolated.env, JOB_CHECK_INTERVAL_MS: '100' };
    producer = producerApp(env);
    await producer.start();
    port = producer.port;
    consumer = consumerApp(env);
    await consumer.start();
  });

  afterAll(async () => {
    await consumer.stop();
    await producer.stop();
    await isolated.dispose();
  });

  const queues = async (): Promise<{ source: string; queues: Queue[] }> =>
    (await request(port, 'GET', '/v1/queues')).body;
  const queueOf = async (kind: string) => (await queues()).queues.find((queue) => queue.kind === kind)!;
  const jobStatus = async (id: string) =>
    (await request(port, 'GET', `/v1/jobs/${id}`)).body.status as string;

  it('lists every queue of the topology from AMQP', async () => {
    const list = await queues();
    expect(list.source).toBe('amqp');
    const byRole = (role: string) =>
      list.queues.filter((queue) => queue.role === role).map((queue) => queue.kind ?? queue.name);
    expect(byRole('work')).toEqual(['object-check', 'csv-sum', 'factorize', 'image-resize']);
    expect(byRole('retry').length).toBeGreaterThan(0);
    expect(byRole('dead-letter')).toEqual([`${isolated.prefix}.dead-letter`]);
    expect(byRole('events')).toEqual([`${isolated.prefix}.job-events`]);
    const factorize = list.queues.find((queue) => queue.kind === 'factorize')!;
    expect(factorize).toMatchObject({
      name: `${isolated.prefix}.job.factorize`,
      consumers: 1,
      ready: null,
      unacked: null,
      rates: null,
      paused: false,
    });
  });

  it('falls back to AMQP when the management API does not answer', async () => {
    const unreachable = producerApp({ ...env, RABBITMQ_MANAGEMENT_URL: 'http://guest:guest@127.0.0.1:9/' });
    await unreachable.start();
    try {
      const { status, body } = await request(unreachable.port, 'GET', '/v1/queues');
      expect(status).toBe(200);
      expect(body.source).toBe('amqp');
      expect(body.queues.find((queue: Queue) => queue.kind === 'factorize').consumers).toBe(1);
    } finally {
      await unreachable.stop();
    }
  });

  it('pause stops consumption (the job stays queued), even across a restart of the worker host; resume runs it', async () => {
    const paused = await request(port, 'POST', '/v1/queues/factorize/pause');
    expect(paused).toMatchObject({ status: 200, body: { kind: 'factorize', paused: true } });
    await waitFor(
      'no consumer on the factorize queue',
      async () => (await queueOf('factorize')).consumers === 0,
    );
    expect((await queueOf('factorize')).paused).toBe(true);
    expect((await queueOf('object-check')).consumers).toBe(1);

    const { body: job } = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '1234' },
    });
    await waitFor('the message waits in the queue', async () => (await queueOf('factorize')).messages === 1);
    await sleep(500);
    expect(await jobStatus(job.id)).toBe('queued');

    await consumer.stop();
    consumer = consumerApp(env);
    await consumer.start();
    await waitFor(
      'object checks consumed again',
      async () => (await queueOf('object-check')).consumers === 1,
    );
    await sleep(500);
    expect((await queueOf('factorize')).consumers).toBe(0);
    expect(await jobStatus(job.id)).toBe('queued');

    const resumed = await request(port, 'POST', '/v1/queues/factorize/resume');
    expect(resumed.body).toEqual({ kind: 'factorize', paused: false });
    await waitFor('succeeded once resumed', async () => (await jobStatus(job.id)) === 'succeeded');
    expect(await queueOf('factorize')).toMatchObject({ consumers: 1, paused: false });
  });

  it('lets work under way finish when its kind is paused', async () => {
    const { body: job } = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: QUICK_SEMIPRIME.n },
    });
    await waitFor('running', async () => (await jobStatus(job.id)) !== 'queued', { intervalMs: 10 });
    await request(port, 'POST', '/v1/queues/factorize/pause');
    await waitFor('succeeded while paused', async () => (await jobStatus(job.id)) === 'succeeded');
    expect((await request(port, 'GET', `/v1/jobs/${job.id}`)).body.attempts).toBe(1);
    await waitFor('no consumer', async () => (await queueOf('factorize')).consumers === 0);
    await request(port, 'POST', '/v1/queues/factorize/resume');
    await waitFor('consuming again', async () => (await queueOf('factorize')).consumers === 1);
  });

  it('pauses and resumes the object checks too; pausing twice is harmless', async () => {
    await request(port, 'POST', '/v1/queues/object-check/pause');
    expect((await request(port, 'POST', '/v1/queues/object-check/pause')).body).toEqual({
      kind: 'object-check',
      paused: true,
    });
    await waitFor('object checks paused', async () => (await queueOf('object-check')).consumers === 0);
    await request(port, 'POST', '/v1/queues/object-check/resume');
    await waitFor('object checks resumed', async () => (await queueOf('object-check')).consumers === 1);
  });
});
