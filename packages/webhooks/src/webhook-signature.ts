/**
 * Standard Webhooks signing (https://www.standardwebhooks.com, the scheme Svix uses): the receiver
 * recomputes an HMAC-SHA256 over `${id}.${timestamp}.${body}` and compares it with one of the
 * space-separated `v1,<base64>` entries of the `webhook-signature` header. Signing the id and the
 * timestamp lets receivers reject replays; several entries let a secret be rotated without a gap.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { AppError } from '@conveyor/platform';

const SECRET_PREFIX = 'whsec_';
/** The spec asks for keys between 24 and 64 bytes; shorter keys are too easy to brute-force. */
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const GENERATED_KEY_BYTES = 32;
/** Strict base64 (Buffer.from silently skips invalid characters, which would hide typos). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Unix seconds beyond this (year 2286) are almost certainly milliseconds passed by mistake. */
const MAX_TIMESTAMP_SECONDS = 9_999_999_999;

export interface SignedMessage {
  /** The message id, identical across retries so receivers can deduplicate. */
  id: string;
  /** Unix seconds of this attempt. */
  timestamp: number;
  /** The exact bytes sent as the request body: any re-serialisation breaks the signature. */
  body: string;
  /** Current secret first; during a rotation the previous one too, so both sign. */
  secrets: readonly string[];
}

export interface WebhookHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
  'content-type': 'application/json';
}

/** A fresh secret in the `whsec_<base64 key>` format receivers paste into their verifier. */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(GENERATED_KEY_BYTES).toString('base64');
}

/** The key bytes of a `whsec_` secret; throws `invalid_webhook_secret` (never echoing the secret). */
export function decodeWebhookSecret(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX)) {
    throw invalidSecret(`it must start with "${SECRET_PREFIX}"`);
  }
  const encodedKey = secret.slice(SECRET_PREFIX.length);
  if (!BASE64.test(encodedKey)) {
    throw invalidSecret(`the part after "${SECRET_PREFIX}" must be standard base64`);
  }
  const key = Buffer.from(encodedKey, 'base64');
  if (key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
    throw invalidSecret(`the key must be ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes, got ${key.length}`);
  }
  return key;
}

/** The `webhook-signature` header value: one `v1,<signature>` entry per secret. */
export function signPayload(message: SignedMessage): string {
  assertSignable(message);
  const signedContent = `${message.id}.${message.timestamp}.${message.body}`;
  return message.secrets
    .map(
      (secret) =>
        `v1,${createHmac('sha256', decodeWebhookSecret(secret)).update(signedContent).digest('base64')}`,
    )
    .join(' ');
}

export function webhookHeaders(message: SignedMessage): WebhookHeaders {
  return {
    'webhook-id': message.id,
    'webhook-timestamp': String(message.timestamp),
    'webhook-signature': signPayload(message),
    'content-type': 'application/json',
  };
}

function assertSignable({ id, timestamp, secrets }: SignedMessage): void {
  if (id === '') throw new AppError('invalid_webhook_message', 'The webhook message id must not be empty.');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp > MAX_TIMESTAMP_SECONDS) {
    throw new AppError(
      'invalid_webhook_message',
      `The webhook timestamp must be whole Unix seconds, got ${timestamp} (milliseconds? divide by 1000).`,
    );
  }
  if (secrets.length === 0) {
    throw new AppError(
      'invalid_webhook_secret',
      'No webhook secret to sign with: the endpoint needs at least one.',
    );
  }
}

function invalidSecret(why: string): AppError {
  return new AppError(
    'invalid_webhook_secret',
    `Invalid webhook secret: ${why} (generate one with generateWebhookSecret).`,
    {
      status: 400,
    },
  );
}
