import { AppError, contextOf, errorMessage } from '@conveyor/platform';
import type { RequestHandler, Response } from 'express';
import { parseIdempotencyKey, requestFingerprint } from './idempotency-key.js';
import type { IdempotencyStore, StoredResponse } from './idempotency.store.js';

/** Response headers a replay repeats: where the job is, and when to poll it. */
const REPLAYED_HEADERS = ['location', 'retry-after'] as const;

/**
 * `Idempotency-Key` on a POST (IETF draft-ietf-httpapi-idempotency-key-header): the first
 * request with a key runs and its answer is kept; a repeat with the same body gets that answer
 * again (with `Idempotent-Replayed: true`), one with a different body 422, one while the first is
 * still running 409. Keys are per client (`scopeOf`). A 5xx is not kept, so a repeat runs again.
 * The answer is stored before it is sent: a client that saw it can rely on the replay.
 */
export function idempotent(store: IdempotencyStore, scopeOf: (res: Response) => string): RequestHandler {
  return async (req, res, next) => {
    const key = parseIdempotencyKey(req.get('idempotency-key'));
    if (key === undefined) return next();
    const scope = scopeOf(res);
    const claim = await store.claim(scope, key, requestFingerprint(req.method, req.originalUrl, req.body));
    switch (claim.type) {
      case 'mismatch':
        throw new AppError(
          'idempotency_key_reused',
          `Idempotency-Key "${key}" was already used with a different request; use a new key for a new request`,
          { status: 422, details: [{ path: 'headers.idempotency-key', message: 'used with another body' }] },
        );
      case 'in-progress':
        res.setHeader('Retry-After', '1');
        throw new AppError(
          'idempotency_key_in_progress',
          `a request with Idempotency-Key "${key}" is still being processed; repeat it once it has been answered`,
          { status: 409 },
        );
      case 'replay':
        return replay(res, claim.response);
      case 'claimed':
        keepAnswer(res, store, scope, key);
        return next();
    }
  };
}

function replay(res: Response, response: StoredResponse): void {
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  res.setHeader('Idempotent-Replayed', 'true');
  res.status(response.status).type('application/json').send(response.body);
}

/** Stores the JSON answer (or frees the key for a 5xx), then sends it. */
function keepAnswer(res: Response, store: IdempotencyStore, scope: string, key: string): void {
  const send = res.json.bind(res);
  res.json = (body: unknown) => {
    const status = res.statusCode;
    const text = JSON.stringify(body);
    const settled =
      status >= 500
        ? store.release(scope, key)
        : store.complete(scope, key, { status, headers: headersToReplay(res), body: text });
    settled
      .catch((error: unknown) =>
        // The request's effect is durable whatever happens here; its answer still goes out, and a
        // repeat waits for the key to be taken for abandoned.
        contextOf(res).log.warn('could not keep the answer of an idempotent request', {
          key,
          error: errorMessage(error),
        }),
      )
      .finally(() => send(body));
    return res;
  };
}

function headersToReplay(res: Response): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = res.getHeader(name);
    if (typeof value === 'string') kept[name] = value;
  }
  return kept;
}
