import { ServiceProcess, waitFor } from '@conveyor/testkit';
import {
  createIsolatedEnv,
  request,
  startServices,
  WEBHOOK_SECRET,
  type IsolatedEnv,
  type Services,
} from '../harness.js';
import { Receiver } from './receiver.js';

describe('notifier killed mid-delivery', () => {
  let isolated: IsolatedEnv;
  let services: Services;
  let producer: Services['producer'];
  const receiver = new Receiver();
  const notifiers: ServiceProcess[] = [];
  const env = () => ({
    ...isolated.env,
    WEBHOOK_SECRET,
    WEBHOOK_ALLOW_LOOPBACK: 'true',
    WEBHOOK_TIMEOUT_MS: '1500',
    WEBHOOK_RETRY_SCHEDULE_MS: '200,400',
    DISPATCH_POLL_MS: '50',
  });

  beforeAll(async () => {
    isolated = await createIsolatedEnv('notifcrash');
    services = await startServices(env());
    ({ producer } = services);
    await receiver.start();
  });

  afterAll(async () => {
    for (const n of notifiers) await n.kill9();
    await services.stop();
    await receiver.stop();
    await isolated.dispose();
  });

  const startNotifier = async () => {
    const n = ServiceProcess.start('notifier', { ...env(), OPS_PORT: '0', LOG_LEVEL: 'info' });
    notifiers.push(n);
    await n.waitForLog(/notifier started/);
    return n;
  };

  it('loses nothing; the retry after the crash carries the same webhook-id', async () => {
    let hold = true;
    receiver.reply = async (_req, res) => {
      if (hold) await new Promise((r) => setTimeout(r, 1_200)); // in flight when the notifier dies
      res.writeHead(200).end();
    };
    const first = await startNotifier();
    const { body: job } = await request(producer.port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '1234' },
      callbackUrl: receiver.url,
    });
    await waitFor('a delivery in flight', () => receiver.forJob(job.id).length > 0);
    await first.kill9();
    hold = false;
    await startNotifier();
    await waitFor(
      'final status delivered by the new notifier',
      () => receiver.forJob(job.id).some((w) => w.payload.status === 'succeeded'),
      { timeoutMs: 20_000 },
    );

    const got = receiver.forJob(job.id);
    const byId = new Map<string, number[]>();
    for (const w of got) byId.set(w.id, [...(byId.get(w.id) ?? []), w.payload.sequence]);
    // The one cut short was sent again with the same webhook-id and the same content.
    expect(
      [...byId.values()].some((sequences) => sequences.length === 2 && sequences[0] === sequences[1]),
    ).toBe(true);
    const sequences = [...new Set(got.map((w) => w.payload.sequence))];
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  });
});

describe('notifier address policy', () => {
  let isolated: IsolatedEnv;
  const apps: { stop(): Promise<void> }[] = [];

  afterAll(async () => {
    for (const app of apps.reverse()) await app.stop();
    await isolated.dispose();
  });

  it('refuses a host name that resolves to 127.0.0.1 unless loopback is allowed', async () => {
    isolated = await createIsolatedEnv('notifpolicy');
    const env = {
      ...isolated.env,
      WEBHOOK_SECRET,
      WEBHOOK_ALLOW_LOOPBACK: 'false',
      DISPATCH_POLL_MS: '50',
    };
    const services = await startServices(env, { notifier: true });
    apps.push(services);
    const receiver = await new Receiver().start();
    apps.push(receiver);
    const { body: job } = await request(services.port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '77' },
      callbackUrl: `http://localhost:${receiver.port}/hooks`,
    });
    const refused = await waitFor('refused', async () => {
      const { body } = await request(services.port, 'GET', `/v1/jobs/${job.id}/deliveries`);
      return body.deliveries.find((d: { status: string }) => d.status === 'failed');
    });
    expect(refused.lastError).toMatch(/^address_refused/);
    expect(receiver.received).toHaveLength(0);
  });
});
