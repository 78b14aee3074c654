import { waitFor } from '@conveyor/testkit';
import {
  createIsolatedEnv,
  notifierApp,
  producerApp,
  request,
  WEBHOOK_SECRET,
  type IsolatedEnv,
} from '../harness.js';
import { Receiver, verifySignature } from '../webhooks/receiver.js';
import { readEvents, scriptedConsumer, scripts } from './operator-kit.js';

type Entry = {
  type: string;
  status?: string;
  sequence: number;
  attempt: number;
  at: string;
  error?: { code: string } | null;
};

/**
 * A job's history (GET /v1/jobs/{id}/events), its retry after failing or being cancelled (same
 * id, a new attempt, events and a signed webhook for it), and its live stream, on real services.
 */
describe('job history, retry and live stream', () => {
  let isolated: IsolatedEnv;
  let receiver: Receiver;
  const apps: { start(): Promise<void>; stop(): Promise<void> }[] = [];
  let port: number;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('ophistory');
    const env = {
      ...isolated.env,
      WEBHOOK_SECRET,
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      DISPATCH_POLL_MS: '50',
      JOB_CHECK_INTERVAL_MS: '100',
    };
    const producer = producerApp(env);
    apps.push(producer, scriptedConsumer(env), notifierApp(env));
    for (const app of apps) await app.start();
    port = producer.port;
    receiver = await new Receiver().start();
  });

  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop();
    await receiver.stop();
    await isolated.dispose();
  });

  const submit = async (key: string) => {
    const { status, body } = await request(port, 'POST', '/v1/jobs', {
      kind: 'scripted',
      input: { key },
      callbackUrl: receiver.url,
    });
    expect(status).toBe(202);
    return body.id as string;
  };
  const statusIs = (id: string, status: string) =>
    waitFor(`job ${id} ${status}`, async () => {
      const { body } = await request(port, 'GET', `/v1/jobs/${id}`);
      return body.status === status ? body : undefined;
    });
  const history = async (id: string): Promise<Entry[]> =>
    (await request(port, 'GET', `/v1/jobs/${id}/events`)).body.entries;
  const statuses = (entries: Entry[]) =>
    entries
      .filter((entry) => entry.type === 'status')
      .map((entry) => [entry.status, entry.attempt, entry.error?.code ?? null]);
  const pushed = (id: string) => receiver.forJob(id).map((webhook) => webhook.payload.status);

  it('retries a failed job: same id, queued again, runs as a new attempt, with events and a signed webhook', async () => {
    scripts.set('fails-once', ['fail', 'ok']);
    const id = await submit('fails-once');
    await statusIs(id, 'failed');
    const retried = await request(port, 'POST', `/v1/jobs/${id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ id, status: 'queued', attempts: 1, finishedAt: null, result: null });
    const done = await statusIs(id, 'succeeded');
    expect(done).toMatchObject({ attempts: 2, result: { key: 'fails-once', run: 2 }, error: null });

    const entries = await history(id);
    expect(statuses(entries)).toEqual([
      ['queued', 0, null],
      ['failed', 1, 'scripted_failure'],
      ['queued', 1, 'scripted_failure'],
      ['succeeded', 2, null],
    ]);
    await waitFor('the new attempt pushed', () => pushed(id).includes('succeeded'));
    expect(pushed(id)).toEqual(['queued', 'failed', 'queued', 'succeeded']);
    for (const webhook of receiver.forJob(id))
      expect(
        verifySignature(
          WEBHOOK_SECRET,
          webhook.id,
          webhook.timestamp,
          webhook.body,
          webhook.signatures.join(' '),
        ),
      ).toBe(true);
    await waitFor(
      'deliveries in the history',
      async () => (await history(id)).filter((entry) => entry.type === 'delivery').length === 4,
    );
    const withDeliveries = await history(id);
    const times = withDeliveries.map((entry) => Date.parse(entry.at));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(withDeliveries.find((entry) => entry.type === 'delivery')).toMatchObject({
      statusCode: 200,
      attempt: 1,
    });

    const again = await request(port, 'POST', `/v1/jobs/${id}/retry`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('job_not_retryable');
  });

  it('retries a cancelled job', async () => {
    scripts.set('cancelled-once', ['hang', 'ok']);
    const id = await submit('cancelled-once');
    await statusIs(id, 'running');
    expect((await request(port, 'DELETE', `/v1/jobs/${id}`)).status).toBe(202);
    await statusIs(id, 'cancelled');
    const retried = await request(port, 'POST', `/v1/jobs/${id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ status: 'queued' });
    await statusIs(id, 'succeeded');
    const entries = statuses(await history(id)).map(([status]) => status);
    expect(entries).toEqual(['queued', 'running', 'cancelled', 'queued', 'succeeded']);
    await waitFor('the new attempt pushed', () => pushed(id).includes('succeeded'));
    expect(pushed(id)).toEqual(['queued', 'running', 'cancelled', 'queued', 'succeeded']);
  });

  it("tells progress from status changes, in order, and streams a job's progress live until it ends", async () => {
    scripts.set('progress', ['progress']);
    const id = await submit('progress');
    const live = await readEvents(`http://127.0.0.1:${port}/v1/jobs/${id}/live`, { timeoutMs: 20_000 });
    expect(live.status).toBe(200);
    expect(live.ended).toBe(true);
    const jobs = live.events
      .filter((event) => event.event === 'job')
      .map((event) => event.data as { status: string; progress: { fraction: number } });
    expect(jobs[0]).toMatchObject({ id });
    expect(jobs[jobs.length - 1]).toMatchObject({ status: 'succeeded', progress: { fraction: 1 } });
    expect(
      jobs.some((job) => job.status === 'running' && job.progress.fraction > 0 && job.progress.fraction < 1),
    ).toBe(true);
    const streamed = live.events
      .filter((event) => event.event === 'history')
      .flatMap((event) => event.data as Entry[]);
    const entries = await history(id);
    expect(entries.map((entry) => entry.type)).toEqual(
      expect.arrayContaining(['status', 'progress', 'delivery']),
    );
    // Every entry of the history reached the stream, each once.
    expect(streamed).toHaveLength(entries.length);
    expect(new Set(streamed.map((entry) => JSON.stringify(entry)))).toEqual(
      new Set(entries.map((entry) => JSON.stringify(entry))),
    );
    const sequences = entries.filter((entry) => entry.type !== 'delivery').map((entry) => entry.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    const firstProgress = entries.findIndex((entry) => entry.type === 'progress');
    expect(entries.slice(0, firstProgress).map((entry) => entry.type === 'status' && entry.status)).toContain(
      'running',
    );
  });

  it('answers 404 for a live stream of an unknown job', async () => {
    const live = await readEvents(
      `http://127.0.0.1:${port}/v1/jobs/00000000-0000-4000-8000-000000000000/live`,
    );
    expect(live.status).toBe(404);
  });
});
