/**
 * The two ways a `run` says how its failure should be treated. Anything else it throws is
 * retried with the kind's backoff. Both are recognized by shape (`classifyJobError`), so a module
 * that imports nothing may throw its own look-alikes.
 */

export interface JobFailureDetail {
  path: string;
  message: string;
}

/** "Do not retry": the job fails at once (dead-lettered). */
export class PermanentJobError extends Error {
  readonly permanent = true;
  readonly code: string;
  readonly details: JobFailureDetail[] | undefined;

  constructor(
    message: string,
    options: { code?: string; details?: JobFailureDetail[]; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'PermanentJobError';
    this.code = options.code ?? DEFAULT_FAILURE_CODE;
    this.details = options.details;
  }
}

/** "Retry after N ms", instead of the kind's backoff (a rate limit, a resource not ready yet). */
export class RetryJobError extends Error {
  readonly retryAfterMs: number;
  readonly code: string;

  constructor(message: string, options: { afterMs: number; code?: string; cause?: unknown }) {
    super(message, { cause: options.cause });
    if (!Number.isFinite(options.afterMs) || options.afterMs < 0) {
      throw new RangeError(
        `RetryJobError: afterMs must be a finite number >= 0 (got ${String(options.afterMs)})`,
      );
    }
    this.name = 'RetryJobError';
    this.retryAfterMs = Math.round(options.afterMs);
    this.code = options.code ?? DEFAULT_FAILURE_CODE;
  }
}

export interface JobErrorClass {
  type: 'permanent' | 'retry';
  /** Set when the error asked for a delay of its own (RetryJobError). */
  retryAfterMs?: number;
  code: string;
  message: string;
}

const DEFAULT_FAILURE_CODE = 'job_failed';
/** Messages are stored on the job and pushed to webhooks: a runaway one is cut. */
const MAX_MESSAGE_LENGTH = 2000;

/**
 * How the host treats a failure: permanent (a PermanentJobError, or any error with
 * `permanent: true`) or retried, after `retryAfterMs` when the error carries one (a
 * RetryJobError). A string `code` on the error is kept; otherwise 'job_failed'.
 */
export function classifyJobError(error: unknown): JobErrorClass {
  const fields = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const code = typeof fields.code === 'string' && fields.code !== '' ? fields.code : DEFAULT_FAILURE_CODE;
  const message = truncate(messageOf(error));
  if (fields.permanent === true || fields.name === 'PermanentJobError')
    return { type: 'permanent', code, message };
  const retryAfterMs = fields.retryAfterMs;
  if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    return { type: 'retry', retryAfterMs: Math.round(retryAfterMs), code, message };
  }
  return { type: 'retry', code, message };
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  if (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { message?: unknown }).message === 'string'
  ) {
    return (error as { message: string }).message;
  }
  try {
    return String(error);
  } catch {
    return 'unknown error';
  }
}

function truncate(message: string): string {
  return message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
}

/**
 * The error a run ends with when its signal aborted: the signal's reason when it is an Error (a
 * host cancels with a reason of its own; the timeout's is a PermanentJobError 'timeout'), else a
 * PermanentJobError 'cancelled'.
 */
export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new PermanentJobError('job cancelled', { code: 'cancelled', cause: reason });
}
