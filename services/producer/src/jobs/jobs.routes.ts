import {
  isTerminal,
  JobListQuery,
  nulCharacterPath,
  SubmitJobRequest,
  type Job,
  type JobPage,
} from '@conveyor/contracts';
import type { OutboxMessage } from '@conveyor/database';
import { toApiJob, type JobRecord, type JobStore } from '@conveyor/jobs';
import {
  AppError,
  contextOf,
  errorMessage,
  parseOrThrow,
  requireJsonBody,
  traceparentOf,
} from '@conveyor/platform';
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
import { runAtOf, type RunAtPathPrefix } from './run-at.js';
import { jobPolicyOf } from './job-policy.js';

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
  const policy = jobPolicyOf(request, await deps.kinds.limits(request.kind), runAtPrefix);
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

/** The jobs resource: submit, read, list, count, cancel. */
export function jobsRouter(deps: JobRoutesDeps): express.Router {
  const router = express.Router();

  router.post('/v1/jobs', requireJsonBody, deps.idempotent, async (req, res) => {
    const request = parseOrThrow(SubmitJobRequest, req.body, 'body');
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
  });

  router.get('/v1/jobs', async (req, res) => {
    const query = parseOrThrow(JobListQuery, req.query, 'query');
    if (query.cursor !== undefined && !JobId.safeParse(query.cursor).success) {
      throw new AppError('invalid_cursor', 'cursor must be the nextCursor of a previous page', {
        status: 400,
        details: [{ path: 'query.cursor', message: 'not a cursor' }],
      });
    }
    const scope = jobScopeOf(res);
    // A client key may name only itself; an operator names any client, or none for all of them.
    if (scope !== undefined && query.clientId !== undefined && query.clientId !== scope) throw operatorOnly();
    const jobs = await deps.store.list({
      ...query,
      clientId: scope ?? query.clientId,
      after: query.cursor,
      limit: query.limit + 1,
    });
    const page = jobs.slice(0, query.limit);
    const body: JobPage = {
      jobs: page.map(toApiJob),
      nextCursor: jobs.length > query.limit ? page[page.length - 1]!.id : null,
    };
    res.json(body);
  });

  router.get('/v1/jobs/:id', async (req, res) => {
    const id = req.params.id;
    const job = JobId.safeParse(id).success ? await deps.store.get(id, jobScopeOf(res)) : undefined;
    if (!job) throw notFound(id);
    sendJob(res, 200, job);
  });

  router.delete('/v1/jobs/:id', async (req, res) => {
    const id = req.params.id;
    const committed = JobId.safeParse(id).success
      ? await deps.store.requestCancel(id, jobScopeOf(res), contextOf(res).correlationId)
      : undefined;
    if (!committed) throw notFound(id);
    const { job } = committed;
    if (job.status === 'succeeded' || job.status === 'failed') {
      throw new AppError('job_finished', `job ${id} has already ${job.status}; there is nothing to cancel`, {
        status: 409,
      });
    }
    deps.sendNow(committed.outbox).catch(() => undefined);
    // 200 once cancelled; 202 while a running job has yet to stop at its next check.
    sendJob(res, job.status === 'cancelled' ? 200 : 202, job);
  });

  router.get('/v1/stats', async (_req, res) => {
    res.json(await deps.store.stats(jobScopeOf(res)));
  });

  return router;
}
