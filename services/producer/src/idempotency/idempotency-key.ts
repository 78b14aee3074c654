import { createHash } from 'node:crypto';
import { AppError } from '@conveyor/platform';
import { z } from 'zod';

/**
 * The `Idempotency-Key` request header (IETF draft-ietf-httpapi-idempotency-key-header): a
 * Structured Field string, `"…"`, though most clients send the bare value, which is taken too.
 * 1–255 printable ASCII characters, so a UUID or any client-made token fits.
 */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** The key the header carries; undefined without the header; a 400 naming the header when it is malformed. */
export function parseIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  const value =
    trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
  if (!KEY.test(value) || value.includes('"') || value.includes('\\')) {
    throw new AppError(
      'invalid_idempotency_key',
      'Idempotency-Key must be 1 to 255 printable ASCII characters, without quotes or backslashes inside',
      {
        status: 400,
        details: [{ path: 'headers.idempotency-key', message: 'not a valid idempotency key' }],
      },
    );
  }
  return value;
}

/**
 * What makes two requests "the same" under one key: the method, the path and the parsed body
 * (re-serialized, so a change of whitespace or key order in the JSON is not a different request).
 */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n`).update(canonicalJson(body)).digest('base64url');
}

/** JSON with object keys sorted, so equal values serialize equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The header as the API document declares it on the routes that honour it (parseIdempotencyKey checks it). */
export const IdempotencyKeyHeader = z.object({
  'Idempotency-Key': z
    .string()
    .regex(/^"?[\x21-\x7e]{1,255}"?$/)
    .optional()
    .meta({
      description:
        'Makes a retried request safe: the same key with the same body answers the first answer again ' +
        '(for IDEMPOTENCY_KEY_TTL_MS); with another body it is a 422',
    }),
});
