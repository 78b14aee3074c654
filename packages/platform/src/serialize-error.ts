import { types } from 'node:util';

/** An Error as a log line can carry it: JSON.stringify drops an Error's own fields (it prints `{}`). */
export interface SerializedError {
  name: string;
  message: string;
  code?: string | number;
  stack?: string;
  cause?: SerializedError | string;
  /** AggregateError's errors (pg reports each address it tried this way). */
  errors?: (SerializedError | string)[];
}

/** Also true for errors made in another realm (node's own, seen from a vm context such as jest's). */
export function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

/** Causes deeper than this are cut: a cycle or a runaway chain must not make a log line huge. */
const MAX_DEPTH = 5;

export function serializeError(error: Error, depth = 0): SerializedError {
  const serialized: SerializedError = { name: error.name, message: error.message };
  const code: unknown = Reflect.get(error, 'code');
  if (typeof code === 'string' || typeof code === 'number') serialized.code = code;
  if (error.stack !== undefined) serialized.stack = error.stack;
  if (depth < MAX_DEPTH) {
    if (error.cause !== undefined) serialized.cause = serializeValue(error.cause, depth + 1);
    const errors: unknown = Reflect.get(error, 'errors');
    if (Array.isArray(errors))
      serialized.errors = errors.map((inner: unknown) => serializeValue(inner, depth + 1));
  }
  return serialized;
}

function serializeValue(value: unknown, depth: number): SerializedError | string {
  return isError(value) ? serializeError(value, depth) : String(value);
}
