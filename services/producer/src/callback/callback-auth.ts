import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '@conveyor/platform';
import type { RequestHandler } from 'express';
import type { ApiKeyCache } from '../auth/api-key-cache.js';
import { bearerKey, SEND_KEY, unauthorized } from '../auth/auth.js';
import type { SourceAllowList } from './source-allow-list.js';

export interface CallbackAuthOptions {
  enabled: boolean;
  keys: ApiKeyCache;
  /** What the old upstream, which cannot send a key, sends instead; undefined when not configured. */
  sharedSecret: string | undefined;
  /** The header carrying the shared secret, lower case. */
  secretHeader: string;
  /** Where the old upstream calls from; an empty list when not configured. */
  allowedSources: SourceAllowList;
}

/** Compares in constant time: both sides are hashed first, so their lengths leak nothing either. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Who may post `/callback` with auth on (one request queues up to CALLBACK_MAX_IDS checks):
 * a client with an API key, like the jobs API; or the old upstream, which cannot send a key, when
 * it meets every check configured for it (the shared secret, the source allow-list, or both).
 * With auth off, anyone, as before.
 */
export function authenticateCallback(options: CallbackAuthOptions): RequestHandler {
  const { sharedSecret, secretHeader, allowedSources } = options;
  const sendWhat =
    sharedSecret === undefined
      ? SEND_KEY
      : `${SEND_KEY}, or the callback secret as "${secretHeader}: <secret>"`;
  return async (req, res, next) => {
    if (!options.enabled) return next();
    const apiKey = bearerKey(req);
    if (apiKey !== undefined) {
      // A key, when sent, decides alone: a wrong one is refused even from an allowed address.
      if (apiKey === null) return next(unauthorized(res, SEND_KEY));
      const principal = await options.keys.clientOf(apiKey);
      if (!principal) return next(unauthorized(res, 'the API key is not valid (or was revoked)'));
      // Its quota and idempotency keys are the client's own (see requestScopeOf).
      res.locals.principal = principal;
      return next();
    }
    if (sharedSecret === undefined && !allowedSources.configured) return next(unauthorized(res, SEND_KEY));
    if (sharedSecret !== undefined) {
      const given = req.get(secretHeader);
      if (given === undefined) return next(unauthorized(res, sendWhat));
      if (!sameSecret(given, sharedSecret))
        return next(unauthorized(res, `the callback secret in "${secretHeader}" is not valid`));
    }
    if (allowedSources.configured && !allowedSources.allows(req.socket.remoteAddress)) {
      // With the right secret the caller is known but calls from the wrong place: 403, not 401.
      if (sharedSecret !== undefined) {
        return next(
          new AppError(
            'forbidden',
            'callbacks are not accepted from this address without an API key: send "Authorization: Bearer <key>"',
            { status: 403 },
          ),
        );
      }
      return next(
        unauthorized(
          res,
          `${SEND_KEY}: callbacks without a key are only accepted from the upstream's addresses`,
        ),
      );
    }
    next();
  };
}
