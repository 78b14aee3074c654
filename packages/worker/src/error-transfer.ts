import { PermanentJobError, RetryJobError, type JobFailureDetail } from './job-errors.js';

/**
 * An error as it crosses between threads. Structured cloning keeps an Error's message but not
 * its class or its own fields, and classifyJobError needs them: name, code, permanent,
 * retryAfterMs.
 */
export interface EncodedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  permanent?: boolean;
  retryAfterMs?: number;
  details?: JobFailureDetail[];
  cause?: EncodedError;
}

const MAX_CAUSE_DEPTH = 3;

export function encodeError(error: unknown, depth = 0): EncodedError {
  if (typeof error !== 'object' || error === null) return { name: 'Error', message: safeString(error) };
  const fields = error as Record<string, unknown>;
  const encoded: EncodedError = {
    name: typeof fields.name === 'string' ? fields.name : 'Error',
    message: typeof fields.message === 'string' ? fields.message : safeString(error),
  };
  if (typeof fields.stack === 'string') encoded.stack = fields.stack;
  if (typeof fields.code === 'string') encoded.code = fields.code;
  if (typeof fields.permanent === 'boolean') encoded.permanent = fields.permanent;
  if (typeof fields.retryAfterMs === 'number') encoded.retryAfterMs = fields.retryAfterMs;
  if (Array.isArray(fields.details))
    encoded.details = fields.details.filter(isDetail).map(({ path, message }) => ({ path, message }));
  if (fields.cause !== undefined && depth < MAX_CAUSE_DEPTH)
    encoded.cause = encodeError(fields.cause, depth + 1);
  return encoded;
}

/** The error again, as the SDK's own class when it was one (by name), so `instanceof` works on this side. */
export function decodeError(encoded: EncodedError): Error {
  const cause = encoded.cause === undefined ? undefined : decodeError(encoded.cause);
  let error: Error;
  if (encoded.name === 'PermanentJobError') {
    error = new PermanentJobError(encoded.message, { code: encoded.code, details: encoded.details, cause });
  } else if (
    encoded.name === 'RetryJobError' &&
    typeof encoded.retryAfterMs === 'number' &&
    encoded.retryAfterMs >= 0
  ) {
    error = new RetryJobError(encoded.message, { afterMs: encoded.retryAfterMs, code: encoded.code, cause });
  } else {
    error = new Error(encoded.message, cause === undefined ? undefined : { cause });
    error.name = encoded.name;
    const fields = error as Error & Record<string, unknown>;
    if (encoded.code !== undefined) fields.code = encoded.code;
    if (encoded.permanent !== undefined) fields.permanent = encoded.permanent;
    if (encoded.retryAfterMs !== undefined) fields.retryAfterMs = encoded.retryAfterMs;
    if (encoded.details !== undefined) fields.details = encoded.details;
  }
  // The stack of the thread where it was thrown says where it happened.
  if (encoded.stack !== undefined) error.stack = encoded.stack;
  return error;
}

function isDetail(value: unknown): value is JobFailureDetail {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as JobFailureDetail).path === 'string' &&
    typeof (value as JobFailureDetail).message === 'string'
  );
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'unknown error';
  }
}
