import type { WebhookPayload } from '@conveyor/webhooks';

export type { WebhookPayload };

/** Headers as fetch (`Headers`), node:http or express give them. */
export type WebhookHeaderSource = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** Largest distance between `webhook-timestamp` and now, in seconds. Default 300 (the spec's 5 min). */
  toleranceSeconds?: number | undefined;
  /** The clock, in milliseconds (tests). */
  now?: (() => number) | undefined;
}

export type WebhookVerificationCode =
  | 'missing_headers'
  | 'invalid_timestamp'
  | 'stale_timestamp'
  | 'invalid_secret'
  | 'invalid_signature'
  | 'invalid_payload';

/** A push that must not be trusted; `code` says why (answer it with 401). */
export class WebhookVerificationError extends Error {
  override readonly name = 'WebhookVerificationError';
  constructor(
    readonly code: WebhookVerificationCode,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_TOLERANCE_SECONDS = 5 * 60;
const SECRET_PREFIX = 'whsec_';

/**
 * Verifies a Standard Webhooks push (`webhook-id`, `webhook-timestamp`, `webhook-signature`) and
 * returns its payload. `body` must be the exact bytes received: re-serialised JSON never matches.
 * Several secrets are tried in turn, for the overlap after a rotation. Web Crypto only, so it
 * runs in browsers, Node 20+, Deno and workers alike; HMAC verification compares in constant time.
 */
export async function verifyWebhook(
  body: string | Uint8Array,
  headers: WebhookHeaderSource,
  secret: string | readonly string[],
  options: VerifyOptions = {},
): Promise<WebhookPayload> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures)
    throw new WebhookVerificationError(
      'missing_headers',
      'the webhook-id, webhook-timestamp and webhook-signature headers are required',
    );
  checkTimestamp(timestamp, options);
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  const signed = new TextEncoder().encode(`${id}.${timestamp}.${text}`);
  const given = signatures
    .split(' ')
    .map((entry) => entry.split(','))
    .filter(([version, value]) => version === 'v1' && value)
    .flatMap(([, value]) => {
      const bytes = base64Bytes(value ?? '');
      return bytes ? [bytes] : [];
    });
  for (const candidate of typeof secret === 'string' ? [secret] : secret) {
    const key = await hmacKey(candidate);
    for (const signature of given)
      if (await crypto.subtle.verify('HMAC', key, signature, signed)) return payloadOf(text);
  }
  throw new WebhookVerificationError(
    'invalid_signature',
    'no webhook-signature entry matches this body with the given secret(s)',
  );
}

function header(headers: WebhookHeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(' ') : value;
}

function checkTimestamp(timestamp: string, options: VerifyOptions): void {
  if (!/^\d{1,12}$/.test(timestamp))
    throw new WebhookVerificationError('invalid_timestamp', 'webhook-timestamp must be whole Unix seconds');
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const nowSeconds = Math.floor((options.now ?? Date.now)() / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > tolerance)
    throw new WebhookVerificationError(
      'stale_timestamp',
      `webhook-timestamp is more than ${tolerance} s from now (a replay, or a clock out of sync)`,
    );
}

type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

async function hmacKey(secret: string): Promise<HmacKey> {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = base64Bytes(encoded);
  if (!key || key.length === 0)
    throw new WebhookVerificationError('invalid_secret', 'the secret must be whsec_ followed by base64');
  return crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
}

function base64Bytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function payloadOf(text: string): WebhookPayload {
  try {
    // Signed by the API, so its shape is the contract's.
    const payload: WebhookPayload = JSON.parse(text);
    return payload;
  } catch {
    throw new WebhookVerificationError('invalid_payload', 'the signed body is not JSON');
  }
}
