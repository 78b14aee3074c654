import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Job, JobHistory } from '@conveyor/contracts';
import type { OutboxMessage } from '@conveyor/database';
import { toApiJob, type JobStore } from '@conveyor/jobs';
import { AppError, contextOf, errorMessage } from '@conveyor/platform';
import express from 'express';
import { z } from 'zod';
import { jobScopeOf } from '../auth/auth.js';
import { defineRoute, jsonResponse } from '../http/api-route.js';
import { JobIdParams, NO_SUCH_JOB, notFound } from '../jobs/jobs.routes.js';

export interface JobHistoryRoutesDeps {
  store: JobStore;
  sendNow: (messages: OutboxMessage[]) => Promise<void>;
}

const JobId = z.uuid();

/** A job's history and its retry: for the job's owner or an operator (a foreign job is a 404). */
export function jobHistoryRouter(deps: JobHistoryRoutesDeps, registry: OpenAPIRegistry): express.Router {
  const router = express.Router();

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/jobs/{id}/events',
      operationId: 'getJobHistory',
      summary: "A job's history: status changes, progress and webhook delivery attempts, oldest first",
      tags: ['operator'],
      access: 'key',
      params: JobIdParams,
      responses: { 200: jsonResponse(JobHistory, 'The history') },
      errors: { 404: NO_SUCH_JOB },
    },
    async ({ params: { id } }, _req, res) => {
      const job = JobId.safeParse(id).success ? await deps.store.get(id, jobScopeOf(res)) : undefined;
      if (!job) throw notFound(id);
      const body: JobHistory = { jobId: job.id, entries: await deps.store.history(job.id) };
      res.json(body);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/v1/jobs/{id}/retry',
      operationId: 'retryJob',
      summary: 'A new attempt of a failed or cancelled job, same id',
      tags: ['operator'],
      access: 'key',
      params: JobIdParams,
      responses: { 202: jsonResponse(Job, 'Queued again; its work message is durable') },
      errors: {
        404: NO_SUCH_JOB,
        409: '`job_not_retryable`: the job is neither failed nor cancelled',
      },
    },
    async ({ params: { id } }, _req, res) => {
      if (!JobId.safeParse(id).success) throw notFound(id);
      const context = contextOf(res);
      const retried = await deps.store.retry(id, jobScopeOf(res), context.correlationId);
      switch (retried.outcome) {
        case 'not_found':
          throw notFound(id);
        case 'not_retryable':
          throw new AppError(
            'job_not_retryable',
            `job ${id} is ${retried.status}; only a failed or cancelled job can be retried`,
            { status: 409 },
          );
        case 'retried': {
          const { job, outbox } = retried.committed;
          context.log.info('job retried', { jobId: job.id, attempts: job.attempts });
          deps
            .sendNow(outbox)
            .catch((error: unknown) =>
              context.log.warn('immediate publish failed', { error: errorMessage(error) }),
            );
          res.setHeader('Location', `/v1/jobs/${job.id}`);
          res.status(202).json(toApiJob(job));
          return;
        }
        default: {
          const unknown: never = retried;
          throw new Error(`unknown retry outcome ${JSON.stringify(unknown)}`);
        }
      }
    },
  );

  return router;
}
