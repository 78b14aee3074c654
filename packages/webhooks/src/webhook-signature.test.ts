import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppError } from '@conveyor/platform';
import {
  decodeWebhookSecret,
  generateWebhookSecret,
  signPayload,
  webhookHeaders,
} from './webhook-signature.js';

/** A receiver written from the Standard Webhooks spec text alone, sharing no code with the signer. */
function receiverAccepts(headers: Record<string, string>, body: string, secret: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`)
    .digest();
  return (headers['webhook-signature'] ?? '').split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || signature === undefined) return false;
    const received = Buffer.from(signature, 'base64');
    return received.length === expected.length && timingSafeEqual(received, expected);
  });
}

const specExample = {
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
};

describe('signPayload', () => {
  it('matches the known-answer vector from the Standard Webhooks spec', () => {
    expect(signPayload(specExample)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('produces headers an independent receiver verifies, and only for the exact body', () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ jobId: 'job_1', status: 'succeeded', note: 'ünïcödé ✓' });
    const headers = { ...webhookHeaders({ id: 'msg_1', timestamp: 1_700_000_000, body, secrets: [secret] }) };

    expect(headers).toMatchObject({
      'webhook-id': 'msg_1',
      'webhook-timestamp': '1700000000',
      'content-type': 'application/json',
    });
    expect(receiverAccepts(headers, body, secret)).toBe(true);
    expect(receiverAccepts(headers, body.replace('succeeded', 'failed'), secret)).toBe(false);
    expect(receiverAccepts({ ...headers, 'webhook-timestamp': '1700000001' }, body, secret)).toBe(false);
    expect(receiverAccepts(headers, body, generateWebhookSecret())).toBe(false);
  });

  it('signs with every secret during a rotation, each verifiable on its own', () => {
    const [newSecret, oldSecret] = [generateWebhookSecret(), generateWebhookSecret()];
    const message = { id: 'msg_2', timestamp: 1_700_000_000, body: '{}', secrets: [newSecret, oldSecret] };
    const headers = { ...webhookHeaders(message) };

    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(receiverAccepts(headers, '{}', newSecret)).toBe(true);
    expect(receiverAccepts(headers, '{}', oldSecret)).toBe(true);
    const [firstOnly] = headers['webhook-signature'].split(' ');
    expect(receiverAccepts({ ...headers, 'webhook-signature': firstOnly ?? '' }, '{}', oldSecret)).toBe(
      false,
    );
  });

  it('refuses messages it cannot sign correctly', () => {
    const code = (change: object) => {
      try {
        signPayload({ ...specExample, ...change });
      } catch (error) {
        return (error as AppError).code;
      }
      return 'signed';
    };
    expect(code({ secrets: [] })).toBe('invalid_webhook_secret');
    expect(code({ id: '' })).toBe('invalid_webhook_message');
    expect(code({ timestamp: 1_700_000_000_000 })).toBe('invalid_webhook_message');
    expect(code({ timestamp: 1.5 })).toBe('invalid_webhook_message');
  });
});

describe('generateWebhookSecret', () => {
  it('makes distinct whsec_ secrets of 32 key bytes', () => {
    const secret = generateWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(decodeWebhookSecret(secret)).toHaveLength(32);
    expect(generateWebhookSecret()).not.toBe(secret);
  });
});

describe('decodeWebhookSecret', () => {
  it.each([
    ['no prefix', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    ['empty key', 'whsec_'],
    ['not base64', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa!w'],
    ['base64url alphabet', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-_'],
    ['too short', `whsec_${Buffer.alloc(16).toString('base64')}`],
    ['too long', `whsec_${Buffer.alloc(65).toString('base64')}`],
  ])('refuses a secret with %s, without echoing it', (_case, secret) => {
    expect(() => decodeWebhookSecret(secret)).toThrow(
      expect.objectContaining({ code: 'invalid_webhook_secret', status: 400 }),
    );
    try {
      decodeWebhookSecret(secret);
    } catch (error) {
      expect((error as Error).message).not.toContain(secret.slice(6, 20) || '\u0000');
    }
  });
});
