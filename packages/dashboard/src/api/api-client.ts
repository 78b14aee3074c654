import { ErrorBody } from '@conveyor/contracts';
import type { z } from 'zod';
import { navigate, currentPath } from '../router.js';
import { authHeaders } from './operator-key.js';

/** An answer the API refused, with its own code and message, shown to the user as they are. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Why the user was sent to the key page: the API's own words, shown there. */
let keyPageNotice: string | null = null;

export function takeKeyPageNotice(): string | null {
  const notice = keyPageNotice;
  keyPageNotice = null;
  return notice;
}

/**
 * A 401 (no key, or a revoked one) or 403 (a client key where an operator's is needed) sends
 * the user to the key page, which comes back to where they were once a key is accepted.
 */
export function sendToKeyPage(message: string): void {
  keyPageNotice = message;
  const here = currentPath();
  if (!here.startsWith('/key')) navigate(`/key?next=${encodeURIComponent(here)}`);
}

export async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let parsed: unknown = undefined;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's page, say): the status line says what it can.
  }
  const body = ErrorBody.safeParse(parsed);
  return body.success
    ? new ApiError(response.status, body.data.error.code, body.data.error.message)
    : new ApiError(response.status, 'http_error', `HTTP ${response.status} ${response.statusText}`.trim());
}

/** The raw response of an API call, once it is known to be a success. */
export async function apiFetch(method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(path, {
    method,
    headers: {
      ...authHeaders(),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.ok) return response;
  const error = await errorOf(response);
  if (response.status === 401 || response.status === 403) sendToKeyPage(error.message);
  throw error;
}

/** A JSON call whose answer is parsed with the contract's schema: a drift shows up at once. */
export async function apiJson<T>(
  schema: z.ZodType<T>,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const response = await apiFetch(method, path, body);
  const parsed = schema.safeParse(await response.json());
  if (!parsed.success)
    throw new ApiError(
      response.status,
      'unexpected_response',
      `${method} ${path} answered a body the dashboard does not understand: ${parsed.error.issues
        .slice(0, 3)
        .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
        .join('; ')}`,
    );
  return parsed.data;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
