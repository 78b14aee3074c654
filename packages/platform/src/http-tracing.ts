import type { RequestHandler, Response } from 'express';
import type { TraceSpan, Tracing } from './tracing.js';

/**
 * A server span for every request, continuing the caller's W3C `traceparent` when it sends one.
 * Mounted only when tracing is on; the span is named by the route that answered (`POST
 * /v1/jobs`), never by the raw path.
 */
export function traceRequests(tracing: Tracing): RequestHandler {
  return (req, res, next) => {
    const span = tracing.startSpan(`${req.method}`, {
      kind: 'server',
      parent: req.get('traceparent'),
      attributes: { 'http.request.method': req.method, 'url.path': req.path },
    });
    if (span) {
      res.locals.traceSpan = span;
      res.on('finish', () => {
        const route = (req.route as { path?: string } | undefined)?.path;
        if (route !== undefined) {
          const pattern = `${req.baseUrl}${route}`;
          span.rename(`${req.method} ${pattern}`);
          span.setAttributes({ 'http.route': pattern });
        }
        span.setAttributes({ 'http.response.status_code': res.statusCode });
        span.end(res.statusCode >= 500 ? `status ${res.statusCode}` : undefined);
      });
    }
    next();
  };
}

/** The `traceparent` of the request's span, for what the request hands on; undefined when tracing is off. */
export function traceparentOf(res: Response): string | undefined {
  const span: unknown = res.locals.traceSpan;
  return isTraceSpan(span) ? span.traceparent : undefined;
}

function isTraceSpan(value: unknown): value is TraceSpan {
  return typeof value === 'object' && value !== null && 'traceparent' in value;
}
