import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import { AppError, type ErrorDetail } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Parses a request part against a schema; failures become a 400 naming every bad field.
 * `where` is the part ('body', 'query', 'params') or a path inside it ('body.input').
 */
export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  where: 'body' | 'query' | 'params' | `body.${string}`,
): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details: ErrorDetail[] = result.error.issues.map((issue) => ({
    path: [where, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
  const summary = details
    .map((d) => `${d.path}: ${d.message}`)
    .slice(0, 3)
    .join('; ');
  throw new AppError('validation_failed', `invalid request ${where}: ${summary}`, { status: 400, details });
}

/** 415 unless the request declares a JSON body. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (!req.is('application/json')) {
    next(
      new AppError('unsupported_media_type', 'send the body as JSON with "Content-Type: application/json"', {
        status: 415,
      }),
    );
    return;
  }
  next();
};

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new AppError('not_found', `no route for ${req.method} ${req.path}`, { status: 404 }));
};

/** Errors thrown by express's body parser carry a `type`; map the ones a client causes. */
function fromBodyParser(
  error: { type?: unknown; status?: unknown; message: string },
  limitBytes: number | undefined,
): AppError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new AppError('invalid_json', `request body is not valid JSON: ${error.message}`, {
        status: 400,
      });
    case 'entity.too.large':
      return new AppError(
        'body_too_large',
        `request body exceeds the limit of ${limitBytes ?? 'the configured'} bytes`,
        { status: 413 },
      );
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported_encoding', error.message, { status: 415 });
    case 'request.aborted':
      return new AppError('request_aborted', 'the client aborted the request', { status: 400 });
    default:
      if (typeof error.status === 'number' && error.status >= 400 && error.status < 500) {
        return new AppError('bad_request', error.message, { status: error.status });
      }
      return undefined;
  }
}

export interface ErrorHandlerOptions {
  bodyLimitBytes?: number;
  /**
   * Recognises failures of the service's own dependencies (a database outage, say) and turns
   * them into the AppError a client can act on; undefined leaves the error alone.
   */
  translate?: (error: unknown) => AppError | undefined;
  /** Seconds a client is told to wait before retrying a 503. Default 2. */
  retryAfterSeconds?: number;
}

/** The one place errors become responses: `{ error: { code, message, details? } }`, unknown errors a logged 500. */
export function errorHandler(log: Logger, options: ErrorHandlerOptions = {}): ErrorRequestHandler {
  const retryAfter = String(options.retryAfterSeconds ?? 2);
  return (error: unknown, req, res, _next) => {
    const known =
      error instanceof AppError
        ? error
        : (options.translate?.(error) ??
          (error instanceof Error
            ? fromBodyParser(error as Error & { type?: unknown; status?: unknown }, options.bodyLimitBytes)
            : undefined));
    if (res.headersSent) {
      // A response already under way (a streamed download) can only be cut short.
      log.warn('request failed after its response started', { method: req.method, path: req.path, error });
      res.destroy();
      return;
    }
    if (known && known.status < 500) {
      res
        .status(known.status)
        .json({ error: { code: known.code, message: known.message, details: known.details } });
      return;
    }
    if (known) {
      log.warn('request failed', {
        method: req.method,
        path: req.path,
        code: known.code,
        error: known.cause ?? known,
      });
      if (known.status === 503) res.setHeader('Retry-After', retryAfter);
      res.status(known.status).json({ error: { code: known.code, message: known.message } });
      return;
    }
    log.error('unhandled error', { method: req.method, path: req.path, error });
    res
      .status(500)
      .json({ error: { code: 'internal_error', message: 'internal error; it has been logged' } });
  };
}
