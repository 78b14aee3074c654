import {
  BuiltInJobKind,
  isBuiltInJobKind,
  CallbackAccepted,
  ErrorBody,
  Job,
  JobListQuery,
  JobPage,
  JobStats,
  SubmitJobRequest,
  callbackBody,
} from '@conveyor/contracts';
import type { RegisteredJobKind } from '@conveyor/jobs';
import express from 'express';
import swaggerUi from 'swagger-ui-express';
import { z } from 'zod';
import { operatorPaths } from '../operator/operator-openapi.js';
import { clientsPaths } from '../auth/clients-openapi.js';
import { schedulePaths } from '../schedules/schedules-openapi.js';

const schema = (s: z.ZodType) =>
  z.toJSONSchema(s, { target: 'openapi-3.0', unrepresentable: 'any', io: 'input' });

const json = (s: z.ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: schema(s) } },
});
const error = (description: string) => json(ErrorBody, description);
/** The image service's errors keep its own fields beside ours. */
const OLD_IMAGE_ERROR =
  'Error, with the old service\'s "result": "error" and "message" beside the error object';
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', format: 'uuid' } };

/** A JSON Schema as an OpenAPI component: the dialect is the document's, not the schema's own. */
function component(jsonSchema: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(jsonSchema).filter(([keyword]) => keyword !== '$schema'));
}

/**
 * POST /v1/jobs's body: one variant per kind, a built-in one (its input checked by its own rules)
 * or a registered one (its input and result schemas as the worker host registered them).
 */
function submitBodies(allRegistered: readonly RegisteredJobKind[]) {
  // The built-in kinds are registered too, by the workers that host them; they have a variant of their own.
  const registered = allRegistered.filter((kind) => !isBuiltInJobKind(kind.kind));
  const builtIn = schema(SubmitJobRequest.extend({ kind: BuiltInJobKind }));
  const variants = registered.map((kind) => ({
    ...builtIn,
    description: `A ${kind.kind} job (version ${kind.version}); its result: #/components/schemas/${kind.kind}.result`,
    properties: {
      ...builtIn.properties,
      kind: { type: 'string', enum: [kind.kind] },
      input: { $ref: `#/components/schemas/${kind.kind}.input` },
    },
  }));
  const schemas = Object.fromEntries(
    registered.flatMap((kind) => [
      [`${kind.kind}.input`, component(kind.inputSchema)],
      [`${kind.kind}.result`, kind.resultSchema === null ? {} : component(kind.resultSchema)],
    ]),
  );
  return { body: { oneOf: [builtIn, ...variants] }, schemas };
}

/**
 * The HTTP API as OpenAPI 3.0, generated from the contracts' schemas (the same ones that validate
 * requests) and from the job kinds worker hosts registered.
 */
export function openApiDocument(
  maxCallbackIds: number,
  registered: readonly RegisteredJobKind[] = [],
): Record<string, unknown> {
  const submit = submitBodies(registered);
  const listParams = Object.entries(schema(JobListQuery).properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: false,
    schema: s,
  }));
  return {
    openapi: '3.0.3',
    info: {
      title: 'Conveyor',
      version: '1.0.0',
      description: 'Durable asynchronous jobs: submit, follow, fetch, cancel.',
    },
    components: {
      schemas: submit.schemas,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'API key, when authentication is on' },
      },
    },
    security: [{ bearer: [] }, {}],
    paths: {
      '/v1/jobs': {
        post: {
          summary: 'Submit a job',
          requestBody: { required: true, content: { 'application/json': { schema: submit.body } } },
          responses: {
            202: json(Job, 'Accepted: the job is committed; `Location` points at it'),
            200: json(Job, 'The existing job with this customId and the same request'),
            400: error('Invalid request; `details` names each bad field'),
            409: error('customId already used with a different request'),
          },
        },
        get: {
          summary: 'List jobs, newest first',
          parameters: listParams,
          responses: { 200: json(JobPage, 'A page and the cursor of the next') },
        },
      },
      '/v1/jobs/{id}': {
        get: {
          summary: 'A job',
          parameters: [idParam],
          responses: { 200: json(Job, 'The job; `Retry-After` while unfinished'), 404: error('No such job') },
        },
        delete: {
          summary: 'Cancel a job',
          parameters: [idParam],
          responses: {
            200: json(Job, 'Cancelled'),
            202: json(Job, 'Running: stops at its next check'),
            404: error('No such job'),
            409: error('Already finished'),
          },
        },
      },
      '/v1/stats': {
        get: { summary: 'Counts per status and kind', responses: { 200: json(JobStats, 'Counts') } },
      },
      ...schedulePaths(),
      '/callback': {
        post: {
          summary: 'Object-status callback: one durable check per id',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schema(callbackBody(maxCallbackIds)) } },
          },
          responses: {
            200: json(CallbackAccepted, 'Every id is durable'),
            400: error('Invalid body'),
            413: error('Body too large'),
            503: error('Broker and database both unavailable'),
          },
        },
      },
      '/v1/images': {
        post: {
          summary: 'Upload an image to resize (multipart/form-data)',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': {
                schema: {
                  type: 'object',
                  required: ['file', 'width', 'height'],
                  properties: {
                    file: { type: 'string', format: 'binary' },
                    width: { type: 'integer', minimum: 1 },
                    height: { type: 'integer', minimum: 1 },
                    fit: { type: 'string', enum: ['cover', 'contain', 'inside', 'fill'] },
                    format: { type: 'string', enum: ['jpeg', 'png', 'webp', 'avif'] },
                    quality: { type: 'integer', minimum: 1, maximum: 100 },
                    customId: { type: 'string' },
                    callbackUrl: { type: 'string', format: 'uri' },
                    runAt: { type: 'string', format: 'date-time', description: 'Run then, not now' },
                    delayMs: { type: 'integer', minimum: 0, description: 'Run this many ms from now' },
                  },
                },
              },
            },
          },
          responses: {
            202: json(Job, 'Accepted'),
            413: error('Upload too large'),
            415: error('Not a supported image'),
            422: error('Invalid field'),
          },
        },
      },
      '/v1/jobs/{id}/result': {
        get: {
          summary: "Download an image job's result",
          parameters: [idParam],
          responses: {
            200: { description: 'The image' },
            304: { description: 'Not modified' },
            404: error('Not ready or no such job'),
            410: error('Expired'),
          },
        },
      },
      '/v1/jobs/{id}/deliveries': {
        get: {
          summary: 'Webhook deliveries of a job, with every attempt',
          parameters: [idParam],
          responses: { 200: { description: 'The delivery log' } },
        },
      },
      '/v1/jobs/{id}/deliveries/redeliver': {
        post: {
          summary: 'Send the latest status again now',
          parameters: [idParam],
          responses: { 202: { description: 'Queued' }, 409: error('No callbackUrl') },
        },
      },
      '/v1/webhook-secret/rotate': {
        post: {
          summary: 'Issue a new signing secret (the old one signs too for a while)',
          responses: { 201: { description: '{"secret": "whsec_…"}' } },
        },
      },
      '/tasks': {
        post: {
          summary: 'Legacy: sum every 10th column of a CSV',
          responses: { 202: { description: '{"task_id": "<uuid>"}' }, 400: error('Invalid input') },
        },
      },
      '/tasks/active': {
        get: {
          summary: 'Legacy: CSV tasks being computed now',
          responses: { 200: { description: '{"count": N}' } },
        },
      },
      '/tasks/{id}': {
        get: {
          summary: 'Legacy: a CSV task and its result',
          parameters: [idParam],
          responses: { 200: { description: 'The task' }, 404: error('Unknown task') },
        },
      },
      '/api/v1/images/resize': {
        post: {
          summary: 'Legacy: upload an image (file, width, height)',
          responses: {
            202: { description: '{"status":"accepted","message":"Upload complete","task_id"}' },
            422: error(OLD_IMAGE_ERROR),
          },
        },
      },
      '/api/v1/status/{id}': {
        get: {
          summary: 'Legacy: image task status',
          parameters: [idParam],
          responses: {
            200: {
              description:
                '{"status": "SENT" | "STARTED" | "RETRY" | "FAILURE" | "SUCCESS"} (Celery\'s states)',
            },
            404: error(OLD_IMAGE_ERROR),
          },
        },
      },
      '/api/v1/images/result/{id}': {
        get: {
          summary: 'Legacy: the resized image',
          parameters: [idParam],
          responses: { 200: { description: 'The image' }, 404: error(OLD_IMAGE_ERROR) },
        },
      },
      '/factor': {
        post: {
          summary: 'Legacy: submit a factorization',
          responses: { 202: { description: '{"task_id": "<uuid>"}' } },
        },
      },
      '/get/{task_id}': {
        get: {
          summary: 'Legacy: factorization result',
          responses: {
            200: { description: '{"result": "2,617"} or {"result": "Calculating..."}' },
            404: {
              description: 'Unknown task: the text "Task_id <task_id> does not exist"',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
      ...operatorPaths(),
      ...clientsPaths(),
    },
  };
}

/** Serves the document as it is now: a kind registered after start appears without a restart. */
export function openApiRouter(document: () => Promise<Record<string, unknown>>): express.Router {
  const router = express.Router();
  router.get('/openapi.json', async (_req, res) => {
    res.json(await document());
  });
  router.use(
    '/docs',
    swaggerUi.serve,
    swaggerUi.setup(undefined, { customSiteTitle: 'Conveyor API', swaggerOptions: { url: '/openapi.json' } }),
  );
  return router;
}
