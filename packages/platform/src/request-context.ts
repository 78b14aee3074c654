import { randomUUID } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import type { Logger } from './logger.js';
import { boundChildren, type Metrics } from './metrics.js';

export interface RequestContext {
  correlationId: string;
  log: Logger;
}

const VALID_ID = /^[\w.:-]{1,200}$/;

/**
 * Gives every request a correlation id (the caller's `X-Request-Id` / `X-Correlation-Id` when it
 * looks sane, else a new UUID), echoes it back, and counts and times the response in the metrics,
 * labelled with the route's pattern (`/v1/jobs/:id`), never the path: ids would make a series
 * each. A request no route matched (a 404, a body refused before routing) is `unmatched`.
 */
export function requestContext(log: Logger, metrics: Metrics): RequestHandler {
  const series = boundChildren((key) => {
    const [method = '', route = '', status = ''] = key.split('\n');
    const labels = { method, route, status };
    return { count: metrics.httpRequests.labels(labels), seconds: metrics.httpRequestSeconds.labels(labels) };
  });
  return (req, res, next) => {
    const arrivedAt = performance.now();
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
      const pattern = (req.route as { path?: unknown } | undefined)?.path;
      // Every route here is declared with one string pattern; a list or a RegExp would be unmatched.
      const route = typeof pattern === 'string' ? `${req.baseUrl}${pattern}` : 'unmatched';
      const { count, seconds } = series(`${req.method}\n${route}\n${res.statusCode}`);
      count.inc();
      seconds.observe((performance.now() - arrivedAt) / 1000);
    });
    next();
  };
}

export function contextOf(res: Response): RequestContext {
  return res.locals.context as RequestContext;
}
