import { AppError } from '@conveyor/platform';
import type { Request, RequestHandler, Response } from 'express';
import { DEFAULT_CLIENT_ID, type ApiPrincipal } from './api-client.repository.js';
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
      // With auth off there is no key to tell roles apart: every request acts as an operator.
      res.locals.principal = { clientId: DEFAULT_CLIENT_ID, role: 'operator' } satisfies ApiPrincipal;
      return next();
    }
    const apiKey = bearerKey(req);
    if (!apiKey) return next(unauthorized(res, SEND_KEY));
    const principal = await options.keys.clientOf(apiKey);
    if (!principal) return next(unauthorized(res, 'the API key is not valid (or was revoked)'));
    res.locals.principal = principal;
    next();
  };
}

/** Who the request acts as, recorded by `authenticate`. */
export function principalOf(res: Response): ApiPrincipal {
  const principal: unknown = res.locals.principal;
  if (!isPrincipal(principal)) throw new Error('principalOf called on a route without authenticate');
  return principal;
}

function isPrincipal(value: unknown): value is ApiPrincipal {
  return typeof value === 'object' && value !== null && 'clientId' in value && 'role' in value;
}

/**
 * Whose quota and idempotency keys a request uses: its client, or '' for a request with no
 * client (a POST /callback let in by the shared secret or its source address, or with auth off).
 */
export function requestScopeOf(res: Response): string {
  const principal: unknown = res.locals.principal;
  return isPrincipal(principal) ? principal.clientId : '';
}

export function clientIdOf(res: Response): string {
  return principalOf(res).clientId;
}

/** The client whose jobs the request may see: its own, or undefined (every client's) for an operator. */
export function jobScopeOf(res: Response): string | undefined {
  const principal = principalOf(res);
  return principal.role === 'operator' ? undefined : principal.clientId;
}

export function operatorOnly(): AppError {
  return new AppError(
    'operator_only',
    'this route needs an operator key; create one with `pnpm client:create <name> --role operator`',
    { status: 403 },
  );
}

/** After `authenticate` (which answers 401 without a key): 403 `operator_only` for a client key. */
export const requireOperator: RequestHandler = (_req, res, next) => {
  next(principalOf(res).role === 'operator' ? undefined : operatorOnly());
};
