import { AppError } from '@conveyor/platform';
import type { Request, RequestHandler, Response } from 'express';
import { DEFAULT_CLIENT_ID } from './api-client.repository.js';
import type { ApiKeyCache } from './api-key-cache.js';

export interface AuthOptions {
  enabled: boolean;
  keys: ApiKeyCache;
}

/** The key of `Authorization: Bearer <key>`; undefined without one, null when the header is there but malformed. */
export function bearerKey(req: Request): string | undefined | null {
  const header = req.get('authorization');
  if (header === undefined) return undefined;
  return /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? null;
}

/** A 401, with the challenge RFC 9110 asks a 401 to carry. */
export function unauthorized(res: Response, message: string): AppError {
  res.set('WWW-Authenticate', 'Bearer');
  return new AppError('unauthorized', message, { status: 401 });
}

export const SEND_KEY = 'send your API key as "Authorization: Bearer <key>"';

/**
 * Every job belongs to a client. With auth on, the client comes from `Authorization: Bearer
 * <key>` (see ApiKeyCache for how long a lookup is believed); with auth off, everything belongs
 * to the default client.
 */
export function authenticate(options: AuthOptions): RequestHandler {
  return async (req, res, next) => {
    if (!options.enabled) {
      res.locals.clientId = DEFAULT_CLIENT_ID;
      return next();
    }
    const apiKey = bearerKey(req);
    if (!apiKey) return next(unauthorized(res, SEND_KEY));
    const clientId = await options.keys.clientIdOf(apiKey);
    if (!clientId) return next(unauthorized(res, 'the API key is not valid (or was revoked)'));
    res.locals.clientId = clientId;
    next();
  };
}

/**
 * Whose quota and idempotency keys a request uses: its client, or '' for a POST /callback let in
 * by the shared secret or its source address (the old upstream, which has no key).
 */
export function requestScopeOf(res: Response): string {
  const clientId: unknown = res.locals.clientId;
  return typeof clientId === 'string' ? clientId : '';
}

export function clientIdOf(res: Response): string {
  return res.locals.clientId as string;
}
