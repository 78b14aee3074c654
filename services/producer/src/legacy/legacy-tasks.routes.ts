import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Job, JobStatus } from '@conveyor/contracts';
import { toApiJob } from '@conveyor/jobs';
import { AppError, requireJsonBody } from '@conveyor/platform';
import express from 'express';
import { z } from 'zod';
import { clientIdOf } from '../auth/auth.js';
import { defineRoute, jsonResponse } from '../http/api-route.js';
import { submitJob, type JobRoutesDeps } from '../jobs/jobs.routes.js';

/**
 * The CSV-sum service's API, kept working: `POST /tasks {"storage":"s3","bucket","key"}` (or
 * `{"storage":"local","path"}`) → 202 with the task id; `GET /tasks/{id}` → the task with its
 * result when done; `GET /tasks/active` → `{"count": N}` tasks being computed right now.
 */
export function legacyTasksRouter(deps: JobRoutesDeps, registry: OpenAPIRegistry): express.Router {
  const router = express.Router();

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/tasks',
      operationId: 'legacySubmitCsvTask',
      summary: 'Old CSV API: sum every Nth column of a CSV file',
      tags: ['legacy'],
      access: 'key',
      guards: [requireJsonBody],
      // The body is the csv-sum input itself, checked by the same schema as POST /v1/jobs's input.
      documentedBody: { required: true, content: { 'application/json': { schema: CSV_SUM_INPUT } } },
      responses: { 202: jsonResponse(CsvTaskAccepted, 'Accepted') },
      errors: {
        400: '`validation_failed` (`details` names each field as `body.<field>`) or `invalid_json`',
        413: '`body_too_large`: the body exceeds BODY_LIMIT_BYTES',
        415: '`unsupported_media_type`: send the body with `Content-Type: application/json`',
        429: "`rate_limited` or `too_many_jobs_in_flight`: this client's limits; try again after `Retry-After`",
      },
    },
    async (_input, req, res) => {
      const { job } = await submitJob(deps, res, { kind: 'csv-sum', input: req.body as unknown }, 'body');
      const accepted: CsvTaskAccepted = { task_id: job.id, status: job.status };
      res.status(202).json(accepted);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/tasks/active',
      operationId: 'legacyCountActiveCsvTasks',
      summary: 'Old CSV API: how many CSV tasks are being computed now',
      tags: ['legacy'],
      access: 'key',
      responses: { 200: jsonResponse(z.object({ count: z.int().nonnegative() }), 'The count') },
    },
    async (_input, _req, res) => {
      const stats = await deps.store.stats(clientIdOf(res));
      res.json({ count: stats.byKind['csv-sum']?.running ?? 0 });
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/tasks/{id}',
      operationId: 'legacyGetCsvTask',
      summary: 'Old CSV API: a task, with its result once done',
      tags: ['legacy'],
      access: 'key',
      params: z.object({ id: z.string().meta({ description: 'The task id /tasks answered' }) }),
      responses: { 200: jsonResponse(CsvTask, 'The task') },
      errors: { 404: '`not_found`: no such CSV task (or not yours)' },
    },
    async ({ params: { id } }, _req, res) => {
      const job = z.uuid().safeParse(id).success ? await deps.store.get(id, clientIdOf(res)) : undefined;
      if (!job || job.kind !== 'csv-sum') {
        throw new AppError('not_found', `task ${id} does not exist`, { status: 404 });
      }
      const view = toApiJob(job);
      const task: CsvTask = {
        task_id: view.id,
        status: view.status,
        progress: view.progress,
        result: view.result,
        error: view.error,
        created_at: view.createdAt,
        finished_at: view.finishedAt,
      };
      res.json(task);
    },
  );

  return router;
}

const CSV_SUM_INPUT = { $ref: '#/components/schemas/csv-sum.input' };

/** `POST /tasks`'s answer. */
const CsvTaskAccepted = z.object({ task_id: z.uuid(), status: JobStatus });
type CsvTaskAccepted = z.infer<typeof CsvTaskAccepted>;

/** `GET /tasks/{id}`'s answer: the job in the old service's words. */
const CsvTask = z.object({
  task_id: z.uuid(),
  status: JobStatus,
  progress: Job.shape.progress,
  result: z
    .unknown()
    .nullable()
    .meta({ description: 'A csv-sum result (`csv-sum.result`) once done, else null' }),
  error: Job.shape.error,
  created_at: Job.shape.createdAt,
  finished_at: Job.shape.finishedAt,
});
type CsvTask = z.infer<typeof CsvTask>;
