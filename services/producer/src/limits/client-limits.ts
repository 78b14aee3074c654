import type { Database, Kysely } from '@conveyor/database';
import type { Logger } from '@conveyor/platform';
import type { RequestHandler, Response } from 'express';
import type { ProducerConfig } from '../config.js';
import { admission } from './admission.js';
import { InFlightCap } from './in-flight-cap.js';
import { RateLimiter } from './rate-limiter.js';

/**
 * The admission checks of the limited routes, from the producer's settings; undefined where every
 * limit is off (0), so those routes carry no step for it.
 */
export function clientLimits(
  config: ProducerConfig,
  db: Kysely<Database>,
  log: Logger,
  scopeOf: (res: Response) => string,
): { submits: RequestHandler | undefined; callbacks: RequestHandler | undefined } {
  const limiter = (name: string, limit: number) =>
    limit > 0 ? new RateLimiter(db, { name, limit, windowMs: config.RATE_LIMIT_WINDOW_MS }, log) : undefined;
  const cap =
    config.MAX_JOBS_IN_FLIGHT > 0
      ? new InFlightCap(db, config.MAX_JOBS_IN_FLIGHT, config.IN_FLIGHT_REFRESH_MS, log)
      : undefined;
  const submitLimiter = limiter('submits', config.RATE_LIMIT_SUBMITS);
  const callbackLimiter = limiter('callbacks', config.RATE_LIMIT_CALLBACKS);
  return {
    submits: submitLimiter || cap ? admission({ limiter: submitLimiter, cap }, scopeOf) : undefined,
    callbacks: callbackLimiter ? admission({ limiter: callbackLimiter }, scopeOf) : undefined,
  };
}
