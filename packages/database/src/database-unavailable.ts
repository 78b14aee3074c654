import { AppError } from '@conveyor/platform';

/** Socket-level failures: the server is down, restarting or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that say "the server cannot serve you now", not "your statement is wrong":
 * connection exceptions (class 08), too many connections, shutdowns and restarts in progress,
 * and the statement timeout (a stuck server, not a bad request).
 */
const UNAVAILABLE_SQLSTATES = new Set(['53300', '57P01', '57P02', '57P03', '57014']);

/** pg reports some losses only in words: a connection that ended or never came within its timeout. */
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /connection.*(closed|ended)/i,
];

function stringField(error: object, field: 'code' | 'message'): string | undefined {
  const value: unknown = Reflect.get(error, field);
  return typeof value === 'string' ? value : undefined;
}

/** True when `error` means PostgreSQL could not be reached or could not serve, rather than a bad query. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = stringField(error, 'code');
  if (
    code !== undefined &&
    (NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08'))
  )
    return true;
  const message = stringField(error, 'message') ?? '';
  if (UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))) return true;
  // An AggregateError (several addresses tried) or a wrapped error carries the reason inside.
  const cause: unknown = Reflect.get(error, 'cause');
  if (cause !== undefined && cause !== error && isDatabaseUnavailable(cause)) return true;
  const errors: unknown = Reflect.get(error, 'errors');
  return Array.isArray(errors) && errors.some(isDatabaseUnavailable);
}

/**
 * The API's view of a database outage: a 503 the client may retry (the error middleware adds
 * Retry-After), instead of a 500 that reads as a bug. Undefined for any other error.
 */
export function databaseUnavailableError(error: unknown): AppError | undefined {
  if (!isDatabaseUnavailable(error)) return undefined;
  return new AppError(
    'database_unavailable',
    'the database is unreachable right now; nothing was changed, retry in a few seconds',
    {
      status: 503,
      cause: error,
    },
  );
}
