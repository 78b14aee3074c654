import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { RegisteredJobKind } from '@conveyor/jobs';
import express from 'express';
import swaggerUi from 'swagger-ui-express';
import { describeKindsInJob, registerJobKinds } from '../jobs/job-kinds-openapi.js';
import type { ApiTag } from './api-route.js';

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

const TAGS: { name: ApiTag; description: string }[] = [
  { name: 'jobs', description: 'Submit a job of any kind, follow it, list, count and cancel jobs' },
  { name: 'images', description: 'Upload an image to resize, download the result' },
  {
    name: 'schedules',
    description: 'Recurring jobs: a job of a kind at each tick of a cron expression in a time zone',
  },
  { name: 'webhooks', description: "A job's webhook deliveries, redelivery, and the signing secret" },
  {
    name: 'operator',
    description:
      "Job history, retry and live streams (the job's owner or an operator); dead letters, queues, " +
      'workers, overview and API clients (operator keys only: `x-required-role: operator`)',
  },
  {
    name: 'legacy',
    description:
      'The APIs of the services Conveyor replaced, kept unchanged for their clients: the object-status ' +
      "service's `/callback` (one durable check per object id), the factorization service's `/factor` and " +
      "`/get/{taskId}`, the CSV service's `/tasks`, the image service's `/api/v1/…`",
  },
];

/**
 * The HTTP API as OpenAPI 3.1, generated from the routes the route modules declared in
 * `registry` (the same schemas that validate their requests) and from the job kinds worker
 * hosts registered, which is why it is built per request: a kind registered after the producer
 * started appears without a restart.
 */
export function openApiDocument(
  registry: OpenAPIRegistry,
  registered: readonly RegisteredJobKind[],
  serverUrl: string,
): OpenApiDocument {
  const withKinds = new OpenAPIRegistry([registry]);
  const { kinds, schemas } = registerJobKinds(withKinds, registered);
  const document = new OpenApiGeneratorV31([
    ...withKinds.definitions,
    ...schemas.map((schema) => ({ type: 'schema' as const, schema })),
  ]).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Conveyor',
      version: '1.0.0',
      description: 'Durable asynchronous jobs: submit, follow, fetch, cancel; webhooks when they change.',
      // As the workspace's packages say (`"license": "UNLICENSED"`): not licensed for use by others;
      // an SPDX `LicenseRef-` names a license outside SPDX's list.
      license: { name: 'Proprietary: all rights reserved', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: serverUrl }],
    // The key is optional in the document because authentication can be off (AUTH_ENABLED).
    security: [{ bearer: [] }, {}],
    tags: TAGS,
  });
  describeKindsInJob(document.components?.schemas, kinds);
  return document;
}

/** Serves the document as it is now, and Swagger UI over it at /docs. */
export function openApiRouter(document: () => Promise<OpenApiDocument>): express.Router {
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
