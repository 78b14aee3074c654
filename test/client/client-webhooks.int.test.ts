import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Webhook } from 'standardwebhooks';
import {
  ConveyorClient,
  verifyWebhook,
  WebhookVerificationError,
  type WebhookPayload,
} from '@conveyor/client';
import { waitFor } from '@conveyor/testkit';
import { webhookReceiver } from '../../packages/client/src/node/index.js';
import { Receiver } from '../webhooks/receiver.js';
import { startAuthStack, type AuthStack } from './auth-stack.js';

const SECRET = `whsec_${Buffer.from('k'.repeat(32)).toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.from('o'.repeat(32)).toString('base64')}`;

/** Headers as standardwebhooks (an independent implementation of the spec) signs them. */
function signed(secret: string, body: string, at = new Date(), id = `msg_${Math.random()}`) {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, body),
  };
}

const body = JSON.stringify({ jobId: 'j', status: 'succeeded', sequence: 3 });

describe('verifyWebhook against the standardwebhooks package', () => {
  it('accepts its signature, from headers given as a record or as Headers, body as text or bytes', async () => {
    const headers = signed(SECRET, body);
    await expect(verifyWebhook(body, headers, SECRET)).resolves.toMatchObject({ jobId: 'j', sequence: 3 });
    await expect(
      verifyWebhook(new TextEncoder().encode(body), new Headers(headers), SECRET),
    ).resolves.toMatchObject({
      status: 'succeeded',
    });
  });

  it('refuses a tampered body, another secret, a stale or future timestamp, missing headers', async () => {
    const headers = signed(SECRET, body);
    await expect(verifyWebhook(body.replace('succeeded', 'failed'), headers, SECRET)).rejects.toMatchObject({
      code: 'invalid_signature',
    });
    await expect(verifyWebhook(body, headers, OTHER_SECRET)).rejects.toMatchObject({
      code: 'invalid_signature',
    });
    const stale = signed(SECRET, body, new Date(Date.now() - 6 * 60_000));
    await expect(verifyWebhook(body, stale, SECRET)).rejects.toMatchObject({ code: 'stale_timestamp' });
    const future = signed(SECRET, body, new Date(Date.now() + 6 * 60_000));
    await expect(verifyWebhook(body, future, SECRET)).rejects.toMatchObject({ code: 'stale_timestamp' });
    // Inside the 5 minutes is fine.
    await expect(
      verifyWebhook(body, signed(SECRET, body, new Date(Date.now() - 4 * 60_000)), SECRET),
    ).resolves.toBeDefined();
    await expect(verifyWebhook(body, { 'webhook-id': 'x' }, SECRET)).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );
  });

  it('during a rotation: either secret verifies a push signed by both; a list of secrets verifies either', async () => {
    const id = 'msg_rotation';
    const at = new Date();
    const both = {
      ...signed(SECRET, body, at, id),
      'webhook-signature': `${new Webhook(OTHER_SECRET).sign(id, at, body)} ${new Webhook(SECRET).sign(id, at, body)}`,
    };
    await expect(verifyWebhook(body, both, SECRET)).resolves.toBeDefined();
    await expect(verifyWebhook(body, both, OTHER_SECRET)).resolves.toBeDefined();
    await expect(
      verifyWebhook(body, signed(OTHER_SECRET, body), [SECRET, OTHER_SECRET]),
    ).resolves.toBeDefined();
  });
});

/** Real pushes from the notifier, verified by the client, and the node:http / express receivers. */
describe('@conveyor/client: webhooks from a real notifier', () => {
  let stack: AuthStack;
  let client: ConveyorClient;
  let secret: string;
  const receivers: Receiver[] = [];
  const servers: http.Server[] = [];

  beforeAll(async () => {
    stack = await startAuthStack('clienthooks', {
      notifier: true,
      env: { WEBHOOK_ALLOW_LOOPBACK: 'true', DISPATCH_POLL_MS: '50', WEBHOOK_RETRY_SCHEDULE_MS: '200,400' },
    });
    const operator = new ConveyorClient({ baseUrl: stack.baseUrl, apiKey: stack.operatorKey });
    const created = await operator.createClient({ name: 'hooks' });
    secret = created.webhookSecret;
    client = new ConveyorClient({ baseUrl: stack.baseUrl, apiKey: created.apiKey });
  });

  afterAll(async () => {
    for (const receiver of receivers) await receiver.stop();
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await stack.stop();
  });

  const receiver = async () => {
    const started = await new Receiver().start();
    receivers.push(started);
    return started;
  };
  const listen = async (handler: http.RequestListener) => {
    const server = http.createServer(handler);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  };
  const headersOf = (w: { id: string; timestamp: string; signatures: string[] }) => ({
    'webhook-id': w.id,
    'webhook-timestamp': w.timestamp,
    'webhook-signature': w.signatures.join(' '),
  });

  it('verifies every real push, refuses it tampered, and lists and redelivers the deliveries', async () => {
    const hooks = await receiver();
    const job = await client.submit('factorize', { number: '1234' }, { callbackUrl: hooks.url });
    await waitFor('succeeded pushed', () =>
      hooks.forJob(job.id).some((w) => w.payload.status === 'succeeded'),
    );
    for (const push of hooks.forJob(job.id)) {
      const payload = await verifyWebhook(push.body, headersOf(push), secret);
      expect(payload).toMatchObject({ jobId: job.id, kind: 'factorize' });
      await expect(
        verifyWebhook(push.body.replace(job.id, job.id.replace(/.$/, '0')), headersOf(push), secret),
      ).rejects.toMatchObject({ code: 'invalid_signature' });
      // standardwebhooks agrees.
      expect(new Webhook(secret).verify(push.body, headersOf(push))).toEqual(JSON.parse(push.body));
    }
    const deliveries = await waitFor('deliveries delivered', async () => {
      const log = await client.deliveries(job.id);
      return log.deliveries.length > 0 &&
        log.deliveries.every((d) => d.status === 'delivered' || d.status === 'superseded')
        ? log
        : undefined;
    });
    expect(deliveries.deliveries[0]).toMatchObject({
      url: hooks.url,
      attemptLog: [expect.objectContaining({ statusCode: 200 })],
    });
    const pushed = hooks.forJob(job.id).length;
    const redelivery = await client.redeliver(job.id);
    expect(redelivery).toMatchObject({ status: 'succeeded', deliveryId: expect.any(String) });
    await waitFor('redelivered', () => hooks.forJob(job.id).length > pushed);
  });

  it('verifies pushes signed during a rotation with the old and the new secret', async () => {
    const hooks = await receiver();
    const rotated = await client.rotateWebhookSecret();
    const job = await client.submit('factorize', { number: '97' }, { callbackUrl: hooks.url });
    await waitFor('succeeded pushed', () =>
      hooks.forJob(job.id).some((w) => w.payload.status === 'succeeded'),
    );
    const push = hooks.forJob(job.id).at(-1)!;
    expect(push.signatures).toHaveLength(2);
    await expect(verifyWebhook(push.body, headersOf(push), rotated.secret)).resolves.toBeDefined();
    await expect(verifyWebhook(push.body, headersOf(push), secret)).resolves.toBeDefined();
    await expect(verifyWebhook(push.body, headersOf(push), OTHER_SECRET)).rejects.toMatchObject({
      code: 'invalid_signature',
    });
    secret = rotated.secret;
  });

  it.each([
    ['node:http', (handler: ReturnType<typeof webhookReceiver>) => handler],
    [
      'express',
      (handler: ReturnType<typeof webhookReceiver>) => {
        const app = express();
        app.post('/hooks', handler);
        return app;
      },
    ],
  ])('the %s receiver hands verified payloads over and answers a forged push 401', async (_name, mount) => {
    const received: WebhookPayload[] = [];
    const url = await listen(
      mount(webhookReceiver({ secret, onEvent: (payload) => void received.push(payload) })),
    );
    const job = await client.submit('factorize', { number: '561' }, { callbackUrl: url });
    await waitFor('succeeded received', () =>
      received.some((p) => p.jobId === job.id && p.status === 'succeeded'),
    );
    expect(received.filter((p) => p.jobId === job.id).map((p) => p.sequence)).toEqual(
      [...received.filter((p) => p.jobId === job.id).map((p) => p.sequence)].sort((a, b) => a - b),
    );

    const forged = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signed(OTHER_SECRET, body) },
      body,
    });
    expect(forged.status).toBe(401);
    expect(await forged.json()).toMatchObject({ error: { code: 'invalid_signature' } });
    const unsigned = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(unsigned.status).toBe(401);
  });
});
