import { classifyResponse, isEndpointFailure, type DeliveryErrorCode } from './delivery-outcome.js';

const answered = (status: number, retryAfterMs?: number) =>
  classifyResponse({ status, durationMs: 42, retryAfterMs });
const failed = (code: DeliveryErrorCode) =>
  classifyResponse({ error: { code, message: 'boom' }, durationMs: 1234.4 });

describe('classifyResponse', () => {
  it.each([200, 201, 202, 204, 299])('counts %i as delivered', (status) => {
    expect(answered(status)).toEqual({ kind: 'delivered' });
  });

  it('stops for good on 410 Gone', () => {
    expect(answered(410)).toEqual({ kind: 'gone' });
  });

  it('retries a redirect without following it, not blaming the endpoint', () => {
    expect(answered(301)).toEqual({
      kind: 'retry',
      reason: 'HTTP 301: redirects are not followed',
      endpointFault: false,
    });
  });

  it.each([400, 401, 403, 404, 408, 409, 413, 422])(
    'retries %i like Svix, as a receiver misconfiguration',
    (status) => {
      expect(answered(status)).toEqual({ kind: 'retry', reason: `HTTP ${status}`, endpointFault: false });
    },
  );

  it.each([500, 502, 503, 504])('retries %i as an endpoint fault', (status) => {
    expect(answered(status)).toEqual({ kind: 'retry', reason: `HTTP ${status}`, endpointFault: true });
  });

  it('passes Retry-After on for 429 and 503 only', () => {
    expect(answered(429, 60_000)).toEqual({
      kind: 'retry',
      reason: 'HTTP 429',
      endpointFault: true,
      retryAfterMs: 60_000,
    });
    expect(answered(503, 60_000)).toMatchObject({ retryAfterMs: 60_000 });
    expect(answered(500, 60_000)).not.toHaveProperty('retryAfterMs');
    expect(answered(404, 60_000)).not.toHaveProperty('retryAfterMs');
  });

  it('retries a status outside HTTP ranges', () => {
    expect(answered(999)).toMatchObject({ kind: 'retry', endpointFault: true });
    expect(answered(101)).toMatchObject({ kind: 'retry', endpointFault: true });
  });

  it.each(['timeout', 'connect_failed', 'tls_failed'] as const)('retries %s as an endpoint fault', (code) => {
    expect(failed(code)).toEqual({
      kind: 'retry',
      reason: `${code} after 1234 ms: boom`,
      endpointFault: true,
    });
  });

  it('retries an attempt we aborted without blaming the endpoint', () => {
    expect(failed('aborted')).toMatchObject({ kind: 'retry', endpointFault: false });
  });

  it.each(['address_refused', 'invalid_url'] as const)('refuses for good on %s', (code) => {
    expect(failed(code)).toEqual({ kind: 'refused', reason: `${code} after 1234 ms: boom` });
  });
});

describe('isEndpointFailure', () => {
  it('blames the endpoint only for faults of its own', () => {
    expect(isEndpointFailure(answered(503))).toBe(true);
    expect(isEndpointFailure(failed('timeout'))).toBe(true);
    expect(isEndpointFailure(answered(404))).toBe(false);
    expect(isEndpointFailure(answered(200))).toBe(false);
    expect(isEndpointFailure(answered(410))).toBe(false);
    expect(isEndpointFailure(failed('address_refused'))).toBe(false);
  });
});
