import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import {
  isTerminal,
  Job,
  JobListQuery,
  JobPage,
  JobStats,
  nulCharacterPath,
  SubmitJobRequest,
} from '@conveyor/contracts';
import type { OutboxMessage } from '@conveyor/database';
import { toApiJob, type JobRecord, type JobStore } from '@conveyor/jobs';
import { AppError, contextOf, errorMessage, traceparentOf } from '@conveyor/platform';
import express, { type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import {
  normalizeJobInput,
  requestHash,
  type InputPath,
  type JobInputLimits,
  type KindLookup,
} from './job-request.js';
import { clientIdOf, jobScopeOf, operatorOnly } from '../auth/auth.js';
import { validateCallbackUrl } from './callback-url.js';
import { JOB_SUBMISSION_REF } from './job-kinds-openapi.js';
import { defineRoute, jsonResponse } from '../http/api-route.js';
import { IdempotencyKeyHeader } from '../idempotency/idempotency-key.js';
import { runAtOf, type RunAtPathPrefix } from './run-at.js';
import { jobPolicyOf } from './job-policy.js';
import { cursorId, keysetPage, LIST_QUERY_ERRORS } from '../http/keyset-page.js';

export interface JobRoutesDeps {
  store: JobStore;
  limits: JobInputLimits;
  /** Job kinds worker hosts registered. */
  kinds: KindLookup;
  /** Publishes outbox messages just committed (the relay retries whatever this cannot send). */
  sendNow: (messages: OutboxMessage[]) => Promise<void>;
  /** Honours an `Idempotency-Key` header on POST /v1/jobs (see idempotency/idempotent.ts). */
  idempotent: RequestHandler;
  /** Longest runAt / delayMs ahead a job may be submitted with, in ms (JOB_MAX_DELAY_MS). */
  maxDelayMs: number;
  /** Counts a job created (not one found again by its customId) in the metrics. */
  countSubmitted: (kind: string) => void;
  /** Test hook: runs between the commit and the publish (a test makes it kill the process). */
  afterCommit?: () => void;
}

/** Seconds a client should wait before polling an unfinished job again. */
const POLL_AFTER_SECONDS = 1;

const JobId = z.uuid();

export function notFound(id: string): AppError {
  return new AppError('not_found', `no job ${id}`, { status: 404 });
}

/**
 * Submits a job (idempotent per customId); shared by /v1/jobs and the legacy routes, whose body
 * is the input itself (`inputPath` 'body': their 400s name `body.key`, not `body.input.key`).
 */
export async function submitJob(
  deps: JobRoutesDeps,
  res: Response,
  request: SubmitJobRequest,
  inputPath: InputPath = 'body.input',
  runAtPrefix: RunAtPathPrefix = 'body.',
): Promise<{ job: JobRecord; created: boolean }> {
  const runAt = runAtOf(request, new Date(), deps.maxDelayMs, runAtPrefix);
  const clientId = clientIdOf(res);
  const context = contextOf(res);
  const { correlationId } = context;
  const input = await normalizeJobInput(request.kind, request.input, deps.limits, deps.kinds, inputPath);
  const nulAt = nulCharacterPath(input);
  if (nulAt !== undefined) {
    const path = nulAt === '' ? inputPath : `${inputPath}.${nulAt}`;
    throw new AppError(
      'invalid_characters',
      `${path} contains a NUL character (\\u0000), which cannot be stored`,
      {
        status: 400,
        details: [{ path, message: 'must not contain NUL characters' }],
      },
    );
  }
  const callbackUrl = request.callbackUrl === undefined ? null : validateCallbackUrl(request.callbackUrl);
  // The kind's limits are looked up only for a job that asks for a policy of its own.
  const asksPolicy = request.timeoutMs !== undefined || request.retry !== undefined;
  const policy = asksPolicy ? jobPolicyOf(request, await deps.kinds.limits(request.kind), runAtPrefix) : {};
  const hash = requestHash(request.kind, input, callbackUrl, policy);
  const customId = request.customId ?? null;

  const committed = await deps.store.create(
    {
      clientId,
      kind: request.kind,
      customId,
      requestHash: hash,
      input,
      callbackUrl,
      traceParent: traceparentOf(res),
      runAt,
      ...policy,
    },
    correlationId,
  );
  if (!committed.created && committed.job.requestHash !== hash) {
    throw new AppError(
      'custom_id_conflict',
      `customId "${customId}" is already used by job ${committed.job.id} with a different request`,
      {
        status: 409,
      },
    );
  }
  deps.afterCommit?.();
  if (committed.created) {
    deps.countSubmitted(request.kind);
    // The request's scoped logger is built only when the line is written (see requestContext).
    if (context.log.isInfoEnabled())
      context.log.info('job accepted', { jobId: committed.job.id, kind: request.kind });
    deps
      .sendNow(committed.outbox)
      .catch((error: unknown) =>
        context.log.warn('immediate publish failed', { error: errorMessage(error) }),
      );
  }
  return committed;
}

function sendJob(res: Response, status: number, job: JobRecord): void {
  // A scheduled job has nothing to poll for until its runAt.
  const wait =
    job.status === 'scheduled' && job.runAt ? Math.ceil((job.runAt.getTime() - Date.now()) / 1000) : 0;
  if (!isTerminal(job.status)) res.setHeader('Retry-After', String(Math.max(POLL_AFTER_SECONDS, wait)));
  const body: Job = toApiJob(job);
  res.status(status).json(body);
}

/** `{id}` of the routes about one job. */
export const JobIdParams = z.object({
  id: z.string().meta({ description: "The job's id (a UUID; any other value is a 404)" }),
});

const RETRY_AFTER = z.object({
  'Retry-After': z
    .int()
    .optional()
    .meta({ description: 'While the job is unfinished: seconds before polling again' }),
});
const LOCATION_AND_RETRY_AFTER = RETRY_AFTER.extend({
  Location: z.string().meta({ description: 'Where the job is: `/v1/jobs/{id}`' }),
});
export const NO_SUCH_JOB = '`not_found`: no such job (or not yours)';

/** The jobs resource: submit, read, list, count, cancel. */
export function jobsRouter(deps: JobRoutesDeps, registry: OpenAPIRegistry): express.Router {
  const router = express.Router();

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/v1/jobs',
      operationId: 'submitJob',
      summary: 'Submit a job',
      description:
        "The envelope is checked by `SubmitJobRequest`, then the input by its kind's input schema. " +
        'A customId makes the submission idempotent: the same request again answers the existing job.',
      tags: ['jobs'],
      access: 'key',
      headers: IdempotencyKeyHeader,
      before: [deps.idempotent],
      body: SubmitJobRequest,
      documentedBody: { required: true, content: { 'application/json': { schema: JOB_SUBMISSION_REF } } },
      responses: {
        202: { ...jsonResponse(Job, 'Accepted: the job is committed'), headers: LOCATION_AND_RETRY_AFTER },
        200: {
          ...jsonResponse(Job, 'The existing job with this customId and the same request'),
          headers: RETRY_AFTER,
        },
      },
      errors: {
        400:
          '`validation_failed`, `invalid_json`, `invalid_number`, `invalid_characters`, `invalid_callback_url`, ' +
          '`invalid_idempotency_key`, or `use_image_upload` (image-resize jobs are uploaded); `details` names each field',
        409:
          '`custom_id_conflict`: customId already used with a different request; ' +
          '`idempotency_key_in_progress`: the first request with this Idempotency-Key is still being answered',
        422:
          "`unknown_kind`: no worker host registered the kind; `invalid_input`: the input breaks the kind's schema; " +
          '`idempotency_key_reused`: the Idempotency-Key came with another body',
        429: "`rate_limited` or `too_many_jobs_in_flight`: this client's limits; try again after `Retry-After`",
      },
    },
    async ({ body: request }, _req, res) => {
      if (request.kind === 'image-resize') {
        throw new AppError(
          'use_image_upload',
          'submit images with POST /v1/images (multipart/form-data with a "file" part)',
          {
            status: 400,
            details: [{ path: 'body.kind', message: 'image-resize jobs are created by uploading the image' }],
          },
        );
      }
      const { job, created } = await submitJob(deps, res, request);
      if (created) res.setHeader('Location', `/v1/jobs/${job.id}`);
      sendJob(res, created ? 202 : 200, job);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/jobs',
      operationId: 'listJobs',
      summary: 'List jobs, newest first, a page at a time',
      tags: ['jobs'],
      access: 'key',
      query: JobListQuery,
      responses: { 200: jsonResponse(JobPage, 'A page and the cursor of the next') },
      errors: {
        400: LIST_QUERY_ERRORS,
        403: '`operator_only`: a client key named another client in `clientId`',
      },
    },
    async ({ query }, _req, res) => {
      const after = cursorId(query.cursor);
      const scope = jobScopeOf(res);
      // A client key may name only itself; an operator names any client, or none for all of them.
      if (scope !== undefined && query.clientId !== undefined && query.clientId !== scope)
        throw operatorOnly();
      const jobs = await deps.store.list({
        ...query,
        clientId: scope ?? query.clientId,
        after,
        limit: query.limit + 1,
      });
      const { page, nextCursor } = keysetPage(jobs, query.limit);
      const body: JobPage = { jobs: page.map(toApiJob), nextCursor };
      res.json(body);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/jobs/{id}',
      operationId: 'getJob',
      summary: 'A job: its status, progress, result or error',
      tags: ['jobs'],
      access: 'key',
      params: JobIdParams,
      responses: { 200: { ...jsonResponse(Job, 'The job'), headers: RETRY_AFTER } },
      errors: { 404: NO_SUCH_JOB },
    },
    async ({ params: { id } }, _req, res) => {
      const job = JobId.safeParse(id).success ? await deps.store.get(id, jobScopeOf(res)) : undefined;
      if (!job) throw notFound(id);
      sendJob(res, 200, job);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'delete',
      path: '/v1/jobs/{id}',
      operationId: 'cancelJob',
      summary: 'Cancel a job',
      tags: ['jobs'],
      access: 'key',
      params: JobIdParams,
      responses: {
        200: jsonResponse(Job, 'Cancelled'),
        202: { ...jsonResponse(Job, 'Running: it stops at its next check'), headers: RETRY_AFTER },
      },
      errors: { 404: NO_SUCH_JOB, 409: '`job_finished`: it has already succeeded or failed' },
    },
    async ({ params: { id } }, _req, res) => {
      const committed = JobId.safeParse(id).success
        ? await deps.store.requestCancel(id, jobScopeOf(res), contextOf(res).correlationId)
        : undefined;
      if (!committed) throw notFound(id);
      const { job } = committed;
      if (job.status === 'succeeded' || job.status === 'failed') {
        throw new AppError(
          'job_finished',
          `job ${id} has already ${job.status}; there is nothing to cancel`,
          {
            status: 409,
          },
        );
      }
      deps.sendNow(committed.outbox).catch(() => undefined);
      // 200 once cancelled; 202 while a running job has yet to stop at its next check.
      sendJob(res, job.status === 'cancelled' ? 200 : 202, job);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/stats',
      operationId: 'getJobStats',
      summary: 'Job counts per status and per kind',
      tags: ['jobs'],
      access: 'key',
      responses: {
        200: jsonResponse(JobStats, "The counts (of this client's jobs, or every client's for an operator)"),
      },
    },
    async (_input, _req, res) => {
      const body: JobStats = await deps.store.stats(jobScopeOf(res));
      res.json(body);
    },
  );

  return router;
}
