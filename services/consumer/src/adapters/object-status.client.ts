import { errors, RoundRobinPool } from 'undici';
import { z } from 'zod';
import { AppError, PermanentError } from '@conveyor/platform';

export const ObjectStatus = z.object({ id: z.number().int().nonnegative(), online: z.boolean() });
export type ObjectStatus = z.infer<typeof ObjectStatus>;

export interface ObjectStatusClientOptions {
  baseUrl: string;
  /** Deadline for the whole answer, headers and body. */
  timeoutMs: number;
  /** Connections kept open to the upstream: one per check in flight, reused with keep-alive. */
  maxSockets: number;
}

/** An object-status answer is a few dozen bytes; anything past this is not one. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * `GET {baseUrl}/objects/:id` over a pool of keep-alive connections. Transient failures throw
 * AppError, a 4xx PermanentError.
 *
 * undici rather than axios: this is the consumer's hottest path (one request per check, thousands
 * per second), and axios's per-request config merging, header objects and proxy look-ups cost
 * about ten times undici's client-side CPU per request (see docs/benchmarks.md).
 */
export class ObjectStatusClient {
  private readonly pool: RoundRobinPool;
  private readonly basePath: string;
  private readonly timeoutMs: number;

  constructor(options: ObjectStatusClientOptions) {
    const base = new URL(options.baseUrl);
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs;
    // Round-robin: a plain Pool scans its connections from the first for a free one, and with
    // thousands of checks waiting seconds on the upstream that scan was 7 % of the consumer's CPU.
    this.pool = new RoundRobinPool(base.origin, {
      connections: options.maxSockets,
      pipelining: 1,
      maxResponseSize: MAX_BODY_BYTES,
      // The deadline in fetchStatus covers headers and body.
      headersTimeout: 0,
      bodyTimeout: 0,
    });
  }

  async fetchStatus(objectId: number, signal?: AbortSignal): Promise<ObjectStatus> {
    // Our own deadline, not undici's headers/body timeouts: those run on undici's coarse timer
    // wheel (half-second ticks), so a 200 ms timeout could fire after a full second.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.timeoutMs);
    const onAbort = () => deadline.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let status: number;
    let body: string;
    try {
      const response = await this.pool.request({ method: 'GET', path: `${this.basePath}/objects/${objectId}`, signal: deadline.signal });
      status = response.statusCode;
      body = await response.body.text();
    } catch (error) {
      if (error instanceof errors.ResponseExceededMaxSizeError) {
        throw new AppError('upstream_bad_response', `object-status API sent more than ${MAX_BODY_BYTES} bytes for object ${objectId}`);
      }
      throw new AppError('upstream_unreachable', `object-status API did not answer for object ${objectId}`, { cause: error });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
    if (status === 404) throw new PermanentError('object_not_found', `object-status API knows no object ${objectId}`);
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      throw new PermanentError('upstream_rejected', `object-status API answered ${status} for object ${objectId}`);
    }
    if (status !== 200) throw new AppError('upstream_failed', `object-status API answered ${status} for object ${objectId}`);
    let parsed: ObjectStatus;
    try {
      parsed = ObjectStatus.parse(JSON.parse(body));
    } catch {
      throw new AppError('upstream_bad_response', `object-status API sent an unreadable body for object ${objectId}`);
    }
    if (parsed.id !== objectId) throw new AppError('upstream_bad_response', `object-status API answered for object ${parsed.id} instead of ${objectId}`);
    return parsed;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
