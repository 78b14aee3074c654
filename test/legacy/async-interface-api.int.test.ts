import { randomUUID } from 'node:crypto';
import { waitFor } from '@conveyor/testkit';
import {
  createIsolatedEnv,
  jobFinished,
  request,
  startServices,
  WEBHOOK_SECRET,
  type IsolatedEnv,
  QUICK_SEMIPRIME,
  type Services,
} from '../harness.js';
import { Receiver, verifySignature } from '../webhooks/receiver.js';

/**
 * The async interface design (如何设计一个异步Web服务——接口部分) and how Conveyor serves it:
 * - addTask takes the application's own `customId` so it can match the task to the row it wrote
 *   first: `POST /v1/jobs` with `customId` answers the task id (`id`), and sending the same
 *   request again returns that task rather than a second one;
 * - setStatus: the service pushes every status change to the application instead of being
 *   polled: the notifier POSTs to the job's `callbackUrl`, naming both ids;
 * - getStatus stays for an application that was down and missed a push: `GET /v1/jobs/{id}`,
 *   or `GET /v1/jobs?customId=` when it never got the task id.
 * Written from that design, end to end through producer, consumer and notifier.
 */
describe('the async interface design: addTask(customId), setStatus pushes, getStatus recovery', () => {
  let isolated: IsolatedEnv;
  let services: Services;
  let port: number;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('legacyasync');
    const env = {
      ...isolated.env,
      WEBHOOK_SECRET,
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      // A failed push is retried only after this test ends: recovery must come from getStatus.
      WEBHOOK_RETRY_SCHEDULE_MS: '600000',
      WEBHOOK_TIMEOUT_MS: '1000',
      DISPATCH_POLL_MS: '50',
    };
    services = await startServices(env, { notifier: true });
    ({ port } = services);
  });

  afterAll(async () => {
    await services.stop();
    for (const receiver of receivers) await receiver.stop();
    await isolated.dispose();
  });

  /** The application's setStatus endpoint. */
  const application = async () => {
    const receiver = await new Receiver().start();
    receivers.push(receiver);
    return receiver;
  };
  const addTask = (customId: string, callbackUrl: string, number = QUICK_SEMIPRIME.n) =>
    request(port, 'POST', '/v1/jobs', { kind: 'factorize', input: { number }, customId, callbackUrl });

  it('addTask returns the task id for a customId, and the same task when asked again', async () => {
    const app = await application();
    const customId = `order-${randomUUID()}`;
    const first = await addTask(customId, app.url);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ id: expect.any(String), customId, status: 'queued' });

    // The application lost the answer and sends the request again: still one task.
    const again = await addTask(customId, app.url);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);

    // A different task under the same customId is refused, not silently merged.
    const other = await addTask(customId, app.url, '1234');
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('custom_id_conflict');
  });

  it('setStatus pushes every status change to the application, naming its customId, without polling', async () => {
    const app = await application();
    const customId = `order-${randomUUID()}`;
    const { body: task } = await addTask(customId, app.url);
    await waitFor('the final status pushed', () =>
      app.forJob(task.id).some((w) => w.payload.status === 'succeeded'),
    );
    const pushes = app.forJob(task.id);
    // A run that lasts (this one takes about 0.3 s) is pushed as running too, and again with
    // each progress step on a slow machine; one that ends within JOB_RUNNING_AFTER_MS goes from
    // queued to its end.
    const statuses = pushes.map((w) => w.payload.status);
    expect(statuses.filter((status, i) => status !== statuses[i - 1])).toEqual([
      'queued',
      'running',
      'succeeded',
    ]);
    const sequences = pushes.map((w) => w.payload.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    for (const push of pushes) {
      expect(push.payload).toMatchObject({ jobId: task.id, customId });
      expect(
        verifySignature(WEBHOOK_SECRET, push.id, push.timestamp, push.body, push.signatures.join(' ')),
      ).toBe(true);
    }
    expect(pushes.at(-1)!.payload.result).toMatchObject({ factors: QUICK_SEMIPRIME.factors });
  });

  it('getStatus recovers what an application that was down missed, by task id or by its customId', async () => {
    const app = await application();
    app.reply = (_req, res) => void res.writeHead(503).end('down'); // the application cannot answer
    const customId = `order-${randomUUID()}`;
    const { body: task } = await addTask(customId, app.url);
    await waitFor('a push refused', () => app.forJob(task.id).length > 0);
    await jobFinished(port, task.id);
    // Every push it was sent was refused, and the retries are minutes away: the application has
    // missed how the task ended.

    // Back up, it asks for the state of the task it knows by id...
    const byId = await request(port, 'GET', `/v1/jobs/${task.id}`);
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({
      id: task.id,
      customId,
      status: 'succeeded',
      result: { factors: QUICK_SEMIPRIME.factors },
    });
    // ...or, if it went down before addTask answered, by the customId it had written first.
    const byCustomId = await request(port, 'GET', `/v1/jobs?customId=${encodeURIComponent(customId)}`);
    expect(byCustomId.status).toBe(200);
    expect(byCustomId.body.jobs).toHaveLength(1);
    expect(byCustomId.body.jobs[0]).toMatchObject({ id: task.id, status: 'succeeded' });

    // A customId it never sent (its row written, then the crash before addTask): no task to recover.
    expect((await request(port, 'GET', `/v1/jobs?customId=order-${randomUUID()}`)).body.jobs).toEqual([]);
    expect((await request(port, 'GET', `/v1/jobs/${randomUUID()}`)).status).toBe(404);
  });
});
