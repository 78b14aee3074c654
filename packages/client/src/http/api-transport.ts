import type { ErrorBody } from '@conveyor/contracts';
import { ConveyorError, ConveyorNetworkError, type ErrorDetail } from './errors.js';

export interface TransportOptions {
  /** The API's base URL, e.g. `http://localhost:9090`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`; leave out when the API runs with auth off. */
  apiKey?: string | undefined;
  /** A fetch of your own (a proxy agent, a test double); the global one by default. */
  fetch?: typeof fetch | undefined;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface ApiRequest {
  method?: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Query | undefined;
  /** JSON-encoded unless it is FormData. */
  body?: unknown;
  signal?: AbortSignal | undefined;
  headers?: Record<string, string> | undefined;
}

/** An answer the API gave with a 2xx status, its body not read yet. */
export interface ApiResponse {
  response: Response;
  /** Seconds the API asks a poller to wait (`Retry-After`), when it says. */
  retryAfterSeconds: number | undefined;
}

/**
 * Sends requests to the API and turns its refusals into ConveyorError and failures to reach it
 * into ConveyorNetworkError; only fetch, so it runs in browsers and Node alike.
 */
export class ApiTransport {
  private readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(options: TransportOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    // Bound: a browser's fetch throws "Illegal invocation" when called as a method of another object.
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  url(path: string, query?: Query): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query ?? {}))
      if (value !== undefined) params.set(name, String(value));
    const search = params.size > 0 ? `?${params.toString()}` : '';
    return `${this.baseUrl}${path}${search}`;
  }

  async send(request: ApiRequest): Promise<ApiResponse> {
    const url = this.url(request.path, request.query);
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (this.apiKey !== undefined) headers.authorization = `Bearer ${this.apiKey}`;
    let body: string | FormData | undefined;
    if (request.body instanceof FormData) body = request.body;
    else if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.body);
    }
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: request.method ?? 'GET',
        headers,
        body,
        signal: request.signal,
      });
    } catch (error) {
      if (request.signal?.aborted) throw error;
      throw new ConveyorNetworkError(`could not reach ${url}: ${messageOf(error)}`, url, { cause: error });
    }
    if (!response.ok) throw await apiError(response, url);
    return { response, retryAfterSeconds: retryAfterOf(response) };
  }

  async json<T>(request: ApiRequest): Promise<T> {
    const { response } = await this.send(request);
    return readJson<T>(response, this.url(request.path, request.query));
  }
}

/**
 * The body of a 2xx answer, typed by the contract it is documented with. It is trusted, not
 * re-validated: checking it would put zod and every schema in each browser bundle, and the
 * integration tests hold the server to the same types. This is the one place the client does so.
 */
export async function readJson<T>(response: Response, url: string): Promise<T> {
  const text = await response.text();
  try {
    const body: T = JSON.parse(text);
    return body;
  } catch (error) {
    throw new ConveyorNetworkError(`${url} answered ${response.status} with a body that is not JSON`, url, {
      cause: error,
    });
  }
}

async function apiError(response: Response, url: string): Promise<ConveyorError> {
  const correlationId = response.headers.get('x-correlation-id') ?? undefined;
  const text = await response.text().catch(() => '');
  const parsed = errorBodyOf(text);
  return new ConveyorError({
    code: parsed?.code ?? `http_${response.status}`,
    message:
      parsed?.message ??
      `${url} answered ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`,
    details: parsed?.details,
    status: response.status,
    correlationId,
    retryAfterSeconds: retryAfterOf(response),
  });
}

/** `Retry-After` in seconds (the API sends seconds, never an HTTP date). */
function retryAfterOf(response: Response): number | undefined {
  const seconds = Number(response.headers.get('retry-after') ?? Number.NaN);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

function errorBodyOf(text: string): ErrorBody['error'] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || !('error' in parsed)) return undefined;
  const error: unknown = parsed.error;
  if (typeof error !== 'object' || error === null) return undefined;
  if (!('code' in error) || typeof error.code !== 'string') return undefined;
  if (!('message' in error) || typeof error.message !== 'string') return undefined;
  const details = 'details' in error && Array.isArray(error.details) ? error.details.filter(isDetail) : [];
  return { code: error.code, message: error.message, details };
}

function isDetail(value: unknown): value is ErrorDetail {
  return (
    typeof value === 'object' &&
    value !== null &&
    'path' in value &&
    typeof value.path === 'string' &&
    'message' in value &&
    typeof value.message === 'string'
  );
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const cause: unknown = error.cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
