import { AppError } from '@conveyor/platform';
import type { RequestHandler, Response } from 'express';
import type { InFlightCap } from './in-flight-cap.js';
import { rateLimitHeaders, secondsToReset } from './rate-limit-window.js';
import type { RateLimiter } from './rate-limiter.js';

/**
 * Admits a request against its client's quota (`limiter`, when set) and, for submits, the cap on
 * its jobs in flight (`cap`, when set). Every response of a limited route carries the RateLimit
 * headers; a refusal is 429 with Retry-After, before the body is read further or stored.
 */
export function admission(
  options: { limiter?: RateLimiter | undefined; cap?: InFlightCap | undefined },
  scopeOf: (res: Response) => string,
  now: () => number = Date.now,
): RequestHandler {
  const { limiter, cap } = options;
  return async (_req, res, next) => {
    const client = scopeOf(res);
    if (limiter) {
      const decision = await limiter.take(client);
      const at = now();
      res.set(rateLimitHeaders(limiter.policy, decision.remaining, at));
      if (!decision.allowed) {
        const wait = secondsToReset(at, limiter.policy.windowMs);
        res.setHeader('Retry-After', String(wait));
        throw new AppError(
          'rate_limited',
          `too many requests: at most ${limiter.policy.limit} ${limiter.policy.name} per ${limiter.policy.windowMs / 1000} s for this client; try again in ${wait} s`,
          { status: 429 },
        );
      }
    }
    if (cap) {
      const { allowed, inFlight } = await cap.admit(client);
      if (!allowed) {
        res.setHeader('Retry-After', '1');
        throw new AppError(
          'too_many_jobs_in_flight',
          `this client has ${inFlight} unfinished jobs, the most it may have (MAX_JOBS_IN_FLIGHT); submit more as they finish`,
          { status: 429 },
        );
      }
    }
    next();
  };
}
