import { AppError } from '@conveyor/platform';
import type { RequestHandler, Response } from 'express';
import { DEFAULT_CLIENT_ID } from '../adapters/api-client.repository.js';

export interface AuthOptions {
  enabled: boolean;
  /** Resolves an API key to its client id; undefined for an unknown key. */
  findClientId: (apiKey: string) => Promise<string | undefined>;
}

const CACHE_TTL_MS = 30_000;

/**
 * Every job belongs to a client. With auth on, the client comes from `Authorization: Bearer
 * <key>` (lookups cached briefly: a key is hashed and checked on every request otherwise); with
 * auth off, everything belongs to the default client.
 */
export function authenticate(options: AuthOptions): RequestHandler {
  const cache = new Map<string, { clientId: string; until: number }>();
  return async (req, res, next) => {
    if (!options.enabled) {
      res.locals.clientId = DEFAULT_CLIENT_ID;
      return next();
    }
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!match) return next(new AppError('unauthorized', 'send your API key as "Authorization: Bearer <key>"', { status: 401 }));
    const apiKey = match[1]!;
    const cached = cache.get(apiKey);
    if (cached && cached.until > Date.now()) {
      res.locals.clientId = cached.clientId;
      return next();
    }
    const clientId = await options.findClientId(apiKey);
    if (!clientId) return next(new AppError('unauthorized', 'the API key is not valid', { status: 401 }));
    cache.set(apiKey, { clientId, until: Date.now() + CACHE_TTL_MS });
    res.locals.clientId = clientId;
    next();
  };
}

export function clientIdOf(res: Response): string {
  return res.locals.clientId as string;
}
