import { waitFor } from '@conveyor/testkit';
import {
  createIsolatedEnv,
  request,
  SLOW_SEMIPRIME,
  startServices,
  WEBHOOK_SECRET,
  type IsolatedEnv,
  type Services,
} from '../harness.js';
import { Receiver, verifySignature } from './receiver.js';

/** Signed status pushes to a real HTTP receiver, with every failure the issue names caused for real. */
describe('callback notifier', () => {
  let isolated: IsolatedEnv;
  let services: Services;
  let port: number;
  const receivers: Receiver[] = [];

  beforeAll(async () => {
    isolated = await createIsolatedEnv('notifier');
    const env = {
      ...isolated.env,
      WEBHOOK_SECRET,
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      WEBHOOK_RETRY_SCHEDULE_MS: '200,400,800,1600',
      WEBHOOK_TIMEOUT_MS: '1000',
      DISPATCH_POLL_MS: '50',
      JOB_CHECK_INTERVAL_MS: '200',
    };
    services = await startServices(env, { notifier: true });
    ({ port } = services);
  });

  afterAll(async () => {
    await services.stop();
    for (const r of receivers) await r.stop();
    await isolated.dispose();
  });

  const receiver = async () => {
    const r = await new Receiver().start();
    receivers.push(r);
    return r;
  };
  const submit = async (callbackUrl: string, number = '1234') =>
    (
      await request(port, 'POST', '/v1/jobs', {
        kind: 'factorize',
        input: { number },
        callbackUrl,
        customId: `c-${Math.random()}`,
      })
    ).body as { id: string; customId: string };

  it('pushes every status of a job in order, signed per the Standard Webhooks spec', async () => {
    const hooks = await receiver();
    const job = await submit(hooks.url, SLOW_SEMIPRIME.n);
    await waitFor(
      'succeeded pushed',
      () => hooks.forJob(job.id).some((w) => w.payload.status === 'succeeded'),
      { timeoutMs: 30_000 },
    );
    const got = hooks.forJob(job.id);
    const sequences = got.map((w) => w.payload.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    expect(new Set(sequences).size).toBe(sequences.length);
    expect(got.map((w) => w.payload.status)).toEqual(
      expect.arrayContaining(['queued', 'running', 'succeeded']),
    );
    for (const w of got) {
      expect(verifySignature(WEBHOOK_SECRET, w.id, w.timestamp, w.body, w.signatures.join(' '))).toBe(true);
      expect(
        verifySignature(
          'whsec_' + Buffer.from('x'.repeat(32)).toString('base64'),
          w.id,
          w.timestamp,
          w.body,
          w.signatures.join(' '),
        ),
      ).toBe(false);
      expect(w.id).toMatch(/^msg_/);
      expect(w.id).not.toBe(job.customId);
      expect(Math.abs(Number(w.timestamp) - Date.now() / 1000)).toBeLessThan(60);
    }
    const final = got[got.length - 1]!.payload;
    expect(final).toMatchObject({
      jobId: job.id,
      customId: job.customId,
      kind: 'factorize',
      status: 'succeeded',
      result: { factors: SLOW_SEMIPRIME.factors },
    });

    // The attempt is logged a moment after the webhook arrived (attempts are logged in batches).
    const logged = await waitFor('the final delivery logged', async () => {
      const log = await request(port, 'GET', `/v1/jobs/${job.id}/deliveries`);
      const delivery = log.body.deliveries.find((d: { sequence: number }) => d.sequence === final.sequence);
      return delivery?.status === 'delivered' ? delivery : undefined;
    });
    expect(logged).toMatchObject({
      status: 'delivered',
      attempts: 1,
      attemptLog: [expect.objectContaining({ statusCode: 200 })],
    });
  });

  it('delivers what a receiver missed while it was down, in order, once it is back', async () => {
    const hooks = await receiver();
    const hookPort = hooks.port;
    await hooks.stop();
    const job = await submit(`http://127.0.0.1:${hookPort}/hooks`);
    await waitFor('failed attempts logged', async () => {
      const { body } = await request(port, 'GET', `/v1/jobs/${job.id}/deliveries`);
      return body.deliveries.some(
        (d: { attempts: number; lastError: string | null }) =>
          d.attempts >= 1 && d.lastError?.startsWith('connect_failed'),
      );
    });
    await hooks.start(hookPort);
    await waitFor(
      'final status delivered after the receiver came back',
      () => hooks.forJob(job.id).some((w) => w.payload.status === 'succeeded'),
      { timeoutMs: 15_000 },
    );
    const sequences = hooks.forJob(job.id).map((w) => w.payload.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
  });

  it('stops delivering to a URL that answered 410 Gone', async () => {
    const hooks = await receiver();
    hooks.reply = (_req, res) => void res.writeHead(410).end('gone');
    const first = await submit(hooks.url);
    await waitFor('410 received', () => hooks.forJob(first.id).length > 0);
    await waitFor(
      'first job done',
      async () => (await request(port, 'GET', `/v1/jobs/${first.id}`)).body.status === 'succeeded',
    );
    await new Promise((r) => setTimeout(r, 1_000));
    expect(hooks.received).toHaveLength(1);
    const second = await submit(hooks.url);
    await waitFor(
      'second job done',
      async () => (await request(port, 'GET', `/v1/jobs/${second.id}`)).body.status === 'succeeded',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(hooks.received).toHaveLength(1);
    const { body } = await request(port, 'GET', `/v1/jobs/${second.id}/deliveries`);
    expect(body.deliveries.every((d: { status: string }) => d.status === 'gone')).toBe(true);
  });

  it('treats a redirect as a failure and never follows it', async () => {
    const target = await receiver();
    const hooks = await receiver();
    hooks.reply = (_req, res) => void res.writeHead(302, { location: target.url }).end();
    const job = await submit(hooks.url);
    await waitFor('retried after the 3xx', () => hooks.forJob(job.id).length >= 2, { timeoutMs: 10_000 });
    expect(target.received).toHaveLength(0);
    const { body } = await request(port, 'GET', `/v1/jobs/${job.id}/deliveries`);
    expect(
      body.deliveries.some(
        (d: { lastStatusCode: number; status: string }) =>
          d.lastStatusCode === 302 && d.status !== 'delivered',
      ),
    ).toBe(true);
  });

  it('refuses the metadata address at submit already: no receiver can be there', async () => {
    const { status, body } = await request(port, 'POST', '/v1/jobs', {
      kind: 'factorize',
      input: { number: '1234' },
      callbackUrl: 'http://169.254.169.254/latest/meta-data',
    });
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      code: 'invalid_callback_url',
      details: [{ path: 'body.callbackUrl', message: expect.stringContaining('cloud metadata') }],
    });
  });

  it.each([
    ['a private address', 'http://10.0.0.1/hooks'],
    // IPv4-translated IPv6 (RFC 6145) is judged as the IPv4 address it carries.
    ['a private address behind an IPv4-translated IPv6 literal', 'http://[::ffff:0:10.0.0.1]/hooks'],
  ])('refuses %s without connecting', async (_name, url) => {
    const job = await submit(url);
    const deliveries = await waitFor('refused', async () => {
      const { body } = await request(port, 'GET', `/v1/jobs/${job.id}/deliveries`);
      const refused = body.deliveries.filter((d: { status: string }) => d.status === 'failed');
      return refused.length > 0 ? refused : undefined;
    });
    expect(deliveries[0].lastError).toMatch(/^address_refused/);
    expect(deliveries[0].attempts).toBe(1);
  });

  it('does not let a hanging receiver delay deliveries to a healthy one', async () => {
    const hanging = await receiver();
    hanging.reply = () => new Promise(() => undefined); // never answers
    const healthy = await receiver();
    for (let i = 0; i < 15; i++) await submit(hanging.url);
    await waitFor('hanging receiver saturated', () => hanging.received.length >= 10);
    const job = await submit(healthy.url);
    const startedAt = Date.now();
    await waitFor(
      'healthy receiver served',
      () => healthy.forJob(job.id).some((w) => w.payload.status === 'succeeded'),
      { timeoutMs: 10_000 },
    );
    expect(Date.now() - startedAt).toBeLessThan(3_000);
  });

  it('redelivers the latest status on request, with a new webhook id', async () => {
    const hooks = await receiver();
    const job = await submit(hooks.url);
    await waitFor('succeeded pushed', () =>
      hooks.forJob(job.id).some((w) => w.payload.status === 'succeeded'),
    );
    const before = hooks.forJob(job.id).length;
    const response = await request(port, 'POST', `/v1/jobs/${job.id}/deliveries/redeliver`);
    expect(response.status).toBe(202);
    await waitFor('redelivered', () => hooks.forJob(job.id).length === before + 1);
    const last = hooks.forJob(job.id).at(-1)!;
    expect(last.payload.status).toBe('succeeded');
    expect(last.id).toBe(response.body.deliveryId);
  });

  it('signs with the new secret and the previous one as soon as the secret is rotated', async () => {
    const hooks = await receiver();
    // The notifier has signed with WEBHOOK_SECRET already (and cached it).
    const before = await submit(hooks.url);
    await waitFor('delivered before the rotation', () =>
      hooks.forJob(before.id).some((w) => w.payload.status === 'succeeded'),
    );
    const rotation = await request(port, 'POST', '/v1/webhook-secret/rotate');
    expect(rotation.status).toBe(201);
    const rotated: string = rotation.body.secret;

    const after = await submit(hooks.url);
    await waitFor('delivered after the rotation', () =>
      hooks.forJob(after.id).some((w) => w.payload.status === 'succeeded'),
    );
    for (const w of hooks.forJob(after.id)) {
      expect(w.signatures).toHaveLength(2);
      expect(verifySignature(rotated, w.id, w.timestamp, w.body, w.signatures.join(' '))).toBe(true);
      expect(verifySignature(WEBHOOK_SECRET, w.id, w.timestamp, w.body, w.signatures.join(' '))).toBe(true);
    }
  });
});
