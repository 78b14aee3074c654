/**
 * An error a caller can act on: a stable string code, a message meant for a person, and the
 * HTTP status it maps to when it crosses the API. Unknown errors stay plain `Error`s and
 * become a logged 500.
 */
export interface ErrorDetail {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: ErrorDetail[] | undefined;

  constructor(
    code: string,
    message: string,
    options: { status?: number; details?: ErrorDetail[]; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status ?? 500;
    this.details = options.details;
  }
}

/** A failure that retrying cannot fix: the message is dead-lettered at once. */
export class PermanentError extends AppError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'PermanentError';
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A transient failure that knows when to try again: the retry goes to the first tier at least this far away. */
export class RetryLaterError extends AppError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterMs: number,
    options: { cause?: unknown } = {},
  ) {
    super(code, message, options);
    this.name = 'RetryLaterError';
  }
}
