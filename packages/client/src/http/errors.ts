import type { ErrorBody } from '@conveyor/contracts';

export type ErrorDetail = NonNullable<ErrorBody['error']['details']>[number];

/**
 * The API refused a request: its `{ error: { code, message, details } }` body, the HTTP status
 * and the correlation id the producer logged the request under (quote it when reporting).
 */
export class ConveyorError extends Error {
  override readonly name = 'ConveyorError';
  readonly code: string;
  readonly status: number;
  readonly details: ErrorDetail[];
  readonly correlationId: string | undefined;
  /** Seconds the API asked to wait before trying again (`Retry-After` on 429 and 503). */
  readonly retryAfterSeconds: number | undefined;

  constructor(options: {
    code: string;
    message: string;
    status: number;
    details?: ErrorDetail[] | undefined;
    correlationId?: string | undefined;
    retryAfterSeconds?: number | undefined;
  }) {
    super(options.message);
    this.code = options.code;
    this.status = options.status;
    this.details = options.details ?? [];
    this.correlationId = options.correlationId;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/**
 * The API could not be reached or its answer not read (connection refused, reset, DNS, a body
 * that is not the API's): nothing says whether the request took effect.
 */
export class ConveyorNetworkError extends Error {
  override readonly name = 'ConveyorNetworkError';
  constructor(
    message: string,
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What `wait` and the other long calls reject with when their signal aborts. */
export function abortError(what: string, signal: AbortSignal): DOMException {
  const error = new DOMException(`${what} was aborted`, 'AbortError');
  // DOMException's constructor takes no cause in every runtime this supports; the reason (a
  // TimeoutError from AbortSignal.timeout, say) is still worth keeping.
  Object.defineProperty(error, 'cause', { value: signal.reason });
  return error;
}
