import type {
  OpenAPIRegistry,
  ResponseConfig,
  RouteConfig,
  ZodRequestBody,
} from '@asteasolutions/zod-to-openapi';
import { ErrorBody } from '@conveyor/contracts';
import { parseOrThrow, requireJsonBody } from '@conveyor/platform';
import type { Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import { SHARED_RESPONSES } from './api-registry.js';

/** The document's tags: one per feature, and the old services' APIs under their own. */
export type ApiTag = 'jobs' | 'images' | 'schedules' | 'webhooks' | 'operator' | 'legacy';

/**
 * Who may call a route: `key` needs an API key when authentication is on (any role);
 * `operator` needs an operator key (a client key gets 403 `operator_only`).
 */
type RouteAccess = 'key' | 'operator';

/** An error status a route answers, and why; the body is the ErrorBody unless given otherwise. */
type Refusals = Record<number, string | ResponseConfig>;

type Parsed<S> = S extends z.ZodType ? z.output<S> : undefined;

export interface RouteSpec<
  P extends z.ZodObject | undefined,
  Q extends z.ZodObject | undefined,
  B extends z.ZodType | undefined,
> {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI's form, `/v1/jobs/{id}`; express's `:id` is derived from it. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: [ApiTag];
  access: RouteAccess;
  params?: P;
  query?: Q;
  /** Request headers, documented; the middleware in `before` that reads them checks them. */
  headers?: z.ZodObject;
  /** A JSON body: a request without `Content-Type: application/json` is a 415, a bad one a 400. */
  body?: B;
  /**
   * How the body is documented when it is not `body` as it is: a multipart form the handler
   * reads itself, or a JSON body whose document is built with the registered kinds.
   */
  documentedBody?: ZodRequestBody;
  /** Run first, in order: who may call (authentication, admission), before the body is looked at. */
  guards?: RequestHandler[];
  /** Run after the content-type check and before validation, in order: an idempotency check, say. */
  before?: RequestHandler[];
  /** The answers that are not errors. */
  responses: Record<number, ResponseConfig>;
  /** The errors this route gives besides those its spec implies (validation, auth, 5xx). */
  errors?: Refusals;
  /** The schema of this route's error bodies (the old image service's carry more fields). */
  errorBody?: z.ZodType;
}

export interface RouteInput<P, Q, B> {
  params: Parsed<P>;
  query: Parsed<Q>;
  body: Parsed<B>;
}

export type RouteHandler<P, Q, B> = (
  input: RouteInput<P, Q, B>,
  req: Request,
  res: Response,
) => Promise<void> | void;

/** A JSON answer, its schema a component when the schema has an id. */
export function jsonResponse(schema: z.ZodType, description: string): ResponseConfig {
  return { description, content: { 'application/json': { schema } } };
}

/**
 * Declares a route once: registers it in the API document and mounts its handler on the router,
 * with the declared params, query and body validated (400 `validation_failed` naming each field)
 * into the typed values the handler receives. The document and the validation share the schemas.
 */
export function defineRoute<
  P extends z.ZodObject | undefined = undefined,
  Q extends z.ZodObject | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(router: Router, registry: OpenAPIRegistry, spec: RouteSpec<P, Q, B>, handler: RouteHandler<P, Q, B>): void {
  checkPathParams(spec);
  registry.registerPath(routeConfig(spec));
  const validate: RequestHandler = async (req, res) => {
    const input: RouteInput<P, Q, B> = {
      params: parsePart(spec.params, req.params, 'params'),
      query: parsePart(spec.query, req.query, 'query'),
      body: parsePart(spec.body, req.body, 'body'),
    };
    await handler(input, req, res);
  };
  const expressPath = spec.path.replace(/\{(\w+)\}/g, ':$1');
  const before = [...(spec.guards ?? []), ...(spec.body ? [requireJsonBody] : []), ...(spec.before ?? [])];
  router[spec.method](expressPath, ...before, validate);
}

/**
 * A declared part parsed, or undefined for a part the route does not declare. The overload
 * carries the type: TypeScript cannot narrow a generic conditional type from a runtime check.
 */
function parsePart<S extends z.ZodType | undefined>(
  schema: S | undefined,
  value: unknown,
  where: 'params' | 'query' | 'body',
): Parsed<S>;
function parsePart(
  schema: z.ZodType | undefined,
  value: unknown,
  where: 'params' | 'query' | 'body',
): unknown {
  return schema === undefined ? undefined : parseOrThrow(schema, value, where);
}

/** A path parameter with no schema would be undocumented: refuse it when the route is declared. */
function checkPathParams(
  spec: RouteSpec<z.ZodObject | undefined, z.ZodObject | undefined, z.ZodType | undefined>,
) {
  for (const [, name] of spec.path.matchAll(/\{(\w+)\}/g)) {
    if (name === undefined || spec.params?.shape[name] === undefined)
      throw new Error(`route ${spec.operationId}: path parameter {${name}} has no schema in params`);
  }
}

function routeConfig(
  spec: RouteSpec<z.ZodObject | undefined, z.ZodObject | undefined, z.ZodType | undefined>,
): RouteConfig {
  const errorBody = spec.errorBody ?? ErrorBody;
  const refusal = (description: string): ResponseConfig => jsonResponse(errorBody, description);
  const implied: Refusals = {};
  // Path parameters are not counted: ours take any text (an id that is not one is a 404).
  if (spec.query || spec.body)
    implied[400] = '`validation_failed`: a parameter or body field breaks its schema; `details` names each';
  if (spec.body) {
    implied[400] = `${implied[400]}; \`invalid_json\`: the body is not JSON`;
    implied[413] = '`body_too_large`: the body exceeds BODY_LIMIT_BYTES';
    implied[415] = '`unsupported_media_type`: send the body with `Content-Type: application/json`';
  }
  implied[401] = '`unauthorized`: no valid API key (with authentication on)';
  if (spec.access === 'operator')
    implied[403] = '`operator_only`: a client key; this route needs an operator key';
  const errors = Object.fromEntries(
    Object.entries({ ...implied, ...spec.errors }).map(([status, answer]) => [
      status,
      typeof answer === 'string' ? refusal(answer) : answer,
    ]),
  );
  const body =
    spec.documentedBody ??
    (spec.body && { required: true, content: { 'application/json': { schema: spec.body } } });
  return {
    method: spec.method,
    path: spec.path,
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description === undefined ? {} : { description: spec.description }),
    tags: spec.tags,
    ...(spec.access === 'operator' ? { 'x-required-role': 'operator' } : {}),
    request: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(spec.headers ? { headers: spec.headers } : {}),
      ...(body ? { body } : {}),
    },
    responses: {
      ...spec.responses,
      500: SHARED_RESPONSES.internalError,
      503: SHARED_RESPONSES.unavailable,
      ...errors,
    },
  };
}
