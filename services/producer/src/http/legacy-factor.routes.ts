import { toApiJob } from '@conveyor/jobs';
import { AppError, requireJsonBody } from '@conveyor/platform';
import express from 'express';
import { z } from 'zod';
import { clientIdOf } from './auth.js';
import { submitJob, type JobRoutesDeps } from './jobs.routes.js';

/**
 * The factorization service's API, kept unchanged: `POST /factor {"number":1234}` → 202
 * `{"task_id"}`, `GET /get/<task_id>` → `{"result":"2,617"}` or `{"result":"Calculating..."}`.
 */
export function legacyFactorRouter(deps: JobRoutesDeps): express.Router {
  const router = express.Router();

  router.post('/factor', requireJsonBody, async (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new AppError('validation_failed', 'send a JSON object like {"number": 1234}', { status: 400 });
    }
    const { job } = await submitJob(deps, res, { kind: 'factorize', input: { number: (body as { number?: unknown }).number } });
    res.status(202).json({ task_id: job.id });
  });

  router.get('/get/:taskId', async (req, res) => {
    const taskId = req.params.taskId;
    const job = z.uuid().safeParse(taskId).success ? await deps.store.get(taskId, clientIdOf(res)) : undefined;
    // A job of another kind is not a factorization task: it has no factors to show.
    if (!job || job.kind !== 'factorize') throw new AppError('not_found', `Task_id ${taskId} does not exist`, { status: 404 });
    switch (job.status) {
      case 'queued':
      case 'running':
        res.json({ result: 'Calculating...' });
        return;
      case 'succeeded': {
        const { factors } = toApiJob(job).result as { factors: string[] };
        res.json({ result: factors.join(',') });
        return;
      }
      case 'failed':
      case 'cancelled':
        res.json({ result: job.status === 'failed' ? 'Failed' : 'Cancelled', error: job.error });
        return;
      default: {
        const unknownStatus: never = job.status;
        throw new Error(`unknown status ${String(unknownStatus)}`);
      }
    }
  });

  return router;
}
