/**
 * What one HTTP attempt means for the delivery. Like Svix, every non-2xx answer is retried on the
 * schedule, 4xx included: a receiver that answers 401/404 is far more often mid-deploy or
 * misconfigured for an hour than gone for good, and giving up early loses a status change the
 * client cannot fetch again. The exception is 410 Gone, the one way a receiver says "stop".
 */

/** Why an attempt produced no HTTP status (raised by the safe HTTP client). */
export type DeliveryErrorCode =
  /** The URL or an address it resolved to is forbidden by the address policy: never retried. */
  | 'address_refused'
  /** The stored URL no longer passes validation (e.g. the rules tightened since it was submitted). */
  | 'invalid_url'
  /** The whole exchange overran its hard deadline. */
  | 'timeout'
  /** DNS, TCP, or the connection dropped before the response was read. */
  | 'connect_failed'
  | 'tls_failed'
  /** We gave up (shutdown): the attempt says nothing about the endpoint. */
  | 'aborted';

export interface AttemptError {
  code: DeliveryErrorCode;
  message: string;
}

/** Either the receiver answered with a status or the attempt failed with an error. */
export type AttemptResult =
  | {
      status: number;
      durationMs: number;
      /** Parsed Retry-After of the response (see parseRetryAfter); used for 429 and 503 only. */
      retryAfterMs?: number;
    }
  | { error: AttemptError; durationMs: number };

export type DeliveryOutcome =
  | { kind: 'delivered' }
  /** endpointFault: the endpoint itself is unhealthy (counts towards opening its circuit). */
  | { kind: 'retry'; reason: string; endpointFault: boolean; retryAfterMs?: number }
  /** 410 Gone: stop all deliveries to this URL. */
  | { kind: 'gone' }
  | { kind: 'refused'; reason: string };

/** Statuses whose Retry-After says when the receiver can take more (RFC 9110 §10.2.3). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

export function classifyResponse(attempt: AttemptResult): DeliveryOutcome {
  if ('error' in attempt) return classifyError(attempt.error, attempt.durationMs);
  return classifyStatus(attempt.status, attempt.retryAfterMs);
}

/** Whether the outcome counts as a failure of the endpoint for its circuit breaker. */
export function isEndpointFailure(outcome: DeliveryOutcome): boolean {
  switch (outcome.kind) {
    case 'retry':
      return outcome.endpointFault;
    // A refused address was never contacted; gone and delivered mean it answered.
    case 'delivered':
    case 'gone':
    case 'refused':
      return false;
  }
}

function classifyError(error: AttemptError, durationMs: number): DeliveryOutcome {
  const reason = `${error.code} after ${Math.round(durationMs)} ms: ${error.message}`;
  switch (error.code) {
    case 'address_refused':
    case 'invalid_url':
      return { kind: 'refused', reason };
    case 'timeout':
    case 'connect_failed':
    case 'tls_failed':
      return { kind: 'retry', reason, endpointFault: true };
    case 'aborted':
      return { kind: 'retry', reason, endpointFault: false };
  }
}

type StatusClass = 'success' | 'redirect' | 'gone' | 'client_error' | 'server_error' | 'unexpected';

function classifyStatus(status: number, retryAfterMs: number | undefined): DeliveryOutcome {
  const statusClass = statusClassOf(status);
  const retryAfter = RETRY_AFTER_STATUSES.has(status) && retryAfterMs !== undefined ? { retryAfterMs } : {};
  switch (statusClass) {
    case 'success':
      return { kind: 'delivered' };
    case 'gone':
      return { kind: 'gone' };
    case 'redirect':
      // Following a redirect would send the payload to a URL nobody validated.
      return { kind: 'retry', reason: `HTTP ${status}: redirects are not followed`, endpointFault: false };
    case 'client_error':
      // 429 means "overloaded": it counts against the endpoint like a 5xx, so its circuit opens.
      return { kind: 'retry', reason: `HTTP ${status}`, endpointFault: status === 429, ...retryAfter };
    case 'server_error':
      return { kind: 'retry', reason: `HTTP ${status}`, endpointFault: true, ...retryAfter };
    case 'unexpected':
      return { kind: 'retry', reason: `unexpected HTTP status ${status}`, endpointFault: true };
  }
}

function statusClassOf(status: number): StatusClass {
  if (status === 410) return 'gone';
  if (status >= 200 && status < 300) return 'success';
  if (status >= 300 && status < 400) return 'redirect';
  if (status >= 400 && status < 500) return 'client_error';
  if (status >= 500 && status < 600) return 'server_error';
  return 'unexpected';
}
