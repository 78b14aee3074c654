import { isJobOfKind } from '@conveyor/jobs';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { AppError, requireJsonBody } from '@conveyor/platform';
import express, { type Response } from 'express';
import { z } from 'zod';
import { FactorizationAnswer, factorizationAnswer } from './legacy-status.js';
import { clientIdOf } from '../auth/auth.js';
import { defineRoute, jsonResponse } from '../http/api-route.js';
import { submitJob, type JobRoutesDeps } from '../jobs/jobs.routes.js';

/**
 * The old service's 404 for an unknown id: plain text, not JSON. Flask sent it as text/html;
 * ours is text/plain with nosniff, since it echoes the id from the URL (as HTML that would be
 * a reflected script); clients read the same text.
 */
function unknownTask(res: Response, taskId: string): void {
  res.status(404).type('text/plain').setHeader('X-Content-Type-Options', 'nosniff');
  res.send(`Task_id ${taskId} does not exist`);
}

/**
 * The factorization service's API, kept unchanged: `POST /factor {"number":1234}` → 202
 * `{"task_id"}`, `GET /get/<task_id>` → `{"result":"2,617"}` or `{"result":"Calculating..."}`,
 * and the text `Task_id <id> does not exist` with 404 for an unknown id.
 */
export function legacyFactorRouter(deps: JobRoutesDeps, registry: OpenAPIRegistry): express.Router {
  const router = express.Router();

  // The old service's "just for test" route, which a load balancer may still probe (a probe, not
  // an API operation: it is not in the document, like /healthz).
  router.get('/', (_req, res) => {
    res.type('text/plain').send('Hello Factor app!\n');
  });

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/factor',
      operationId: 'legacySubmitFactorization',
      summary: 'Old factorization API: submit a number to factorize',
      tags: ['legacy'],
      access: 'key',
      // The body is the factorize input itself, checked as POST /v1/jobs checks one (parseFactorizeInput).
      documentedBody: { required: true, content: { 'application/json': { schema: ref('factorize.input') } } },
      responses: { 202: jsonResponse(LegacyTaskAccepted, 'Accepted') },
      errors: {
        400: '`validation_failed` (not a JSON object), `invalid_json` or `invalid_number` (`details` names the rule)',
        413: '`body_too_large`: the body exceeds BODY_LIMIT_BYTES',
        415: '`unsupported_media_type`: send the body with `Content-Type: application/json`',
        429: "`rate_limited` or `too_many_jobs_in_flight`: this client's limits; try again after `Retry-After`",
      },
      guards: [requireJsonBody],
    },
    async (_input, req, res) => {
      const body: unknown = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new AppError('validation_failed', 'send a JSON object like {"number": 1234}', { status: 400 });
      }
      const { job } = await submitJob(deps, res, {
        kind: 'factorize',
        input: { number: 'number' in body ? body.number : undefined },
      });
      const accepted: LegacyTaskAccepted = { task_id: job.id };
      res.status(202).json(accepted);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/get/{taskId}',
      operationId: 'legacyGetFactorization',
      summary: 'Old factorization API: the factors, or "Calculating..." until they are known',
      tags: ['legacy'],
      access: 'key',
      params: z.object({ taskId: z.string().meta({ description: 'The task id /factor answered' }) }),
      responses: { 200: jsonResponse(FactorizationAnswer, 'The answer') },
      errors: {
        404: {
          description: 'Unknown task: the text `Task_id <taskId> does not exist`',
          content: { 'text/plain': { schema: z.string() } },
        },
      },
    },
    async ({ params: { taskId } }, _req, res) => {
      const job = z.uuid().safeParse(taskId).success
        ? await deps.store.get(taskId, clientIdOf(res))
        : undefined;
      // A job of another kind is not a factorization task: it has no factors to show.
      const answer = job && isJobOfKind(job, 'factorize') ? factorizationAnswer(job) : undefined;
      if (!answer) {
        unknownTask(res, taskId);
        return;
      }
      res.json(answer);
    },
  );

  return router;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** `POST /factor`'s answer. */
const LegacyTaskAccepted = z.object({ task_id: z.uuid() });
type LegacyTaskAccepted = z.infer<typeof LegacyTaskAccepted>;
