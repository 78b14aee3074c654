import cors from 'cors';
import type { RequestHandler } from 'express';

/** What a browser page on another origin must be allowed to send, and to read back. */
const REQUEST_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'X-Correlation-Id',
  'traceparent',
];
const RESPONSE_HEADERS = [
  'Location',
  'Retry-After',
  'X-Correlation-Id',
  'RateLimit',
  'RateLimit-Policy',
  'Idempotent-Replayed',
];

/**
 * CORS for browser apps on the origins CORS_ALLOWED_ORIGINS names (`*` for any), so
 * `@conveyor/client` works from a page served elsewhere; none by default (the dashboard at /ui is
 * same-origin). API keys travel in `Authorization`, never in cookies, so no credentials mode.
 */
export function crossOrigin(allowedOrigins: readonly string[]): RequestHandler | undefined {
  if (allowedOrigins.length === 0) return undefined;
  return cors({
    origin: allowedOrigins.includes('*') ? '*' : [...allowedOrigins],
    allowedHeaders: REQUEST_HEADERS,
    exposedHeaders: RESPONSE_HEADERS,
    maxAge: 600,
  });
}
