import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface RequestContext {
  correlationId: string;
  log: Logger;
}

const VALID_ID = /^[\w.:-]{1,200}$/;

/**
 * Gives every request a correlation id (the caller's `X-Request-Id` / `X-Correlation-Id` when it
 * looks sane, else a new UUID), echoes it back, and counts the response in the metrics.
 */
export function requestContext(log: Logger, metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const incoming = req.get('x-correlation-id') ?? req.get('x-request-id');
    const correlationId = incoming && VALID_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Correlation-Id', correlationId);
    // The scoped logger is built only if the request logs something: at a thousand requests a
    // second a child logger per request is measurable, and most requests log nothing.
    let scoped: Logger | undefined;
    const context: RequestContext = {
      correlationId,
      get log() {
        return (scoped ??= log.child({ correlationId }));
      },
    };
    res.locals.context = context;
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.httpRequests.inc({
        method: req.method,
        route: `${req.baseUrl}${route}`,
        status: String(res.statusCode),
      });
    });
    next();
  };
}

export function contextOf(res: Response): RequestContext {
  return res.locals.context as RequestContext;
}
