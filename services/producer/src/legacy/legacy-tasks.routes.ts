import { toApiJob } from '@conveyor/jobs';
import { AppError, requireJsonBody } from '@conveyor/platform';
import express from 'express';
import { z } from 'zod';
import { clientIdOf } from '../auth/auth.js';
import { submitJob, type JobRoutesDeps } from '../jobs/jobs.routes.js';

/**
 * The CSV-sum service's API, kept working: `POST /tasks {"storage":"s3","bucket","key"}` (or
 * `{"storage":"local","path"}`) → 202 with the task id; `GET /tasks/{id}` → the task with its
 * result when done; `GET /tasks/active` → `{"count": N}` tasks being computed right now.
 */
export function legacyTasksRouter(deps: JobRoutesDeps): express.Router {
  const router = express.Router();

  router.post('/tasks', requireJsonBody, async (req, res) => {
    const { job } = await submitJob(deps, res, { kind: 'csv-sum', input: req.body as unknown }, 'body');
    res.status(202).json({ task_id: job.id, status: job.status });
  });

  router.get('/tasks/active', async (_req, res) => {
    const stats = await deps.store.stats(clientIdOf(res));
    res.json({ count: stats.byKind['csv-sum']?.running ?? 0 });
  });

  router.get('/tasks/:id', async (req, res) => {
    const id = req.params.id;
    const job = z.uuid().safeParse(id).success ? await deps.store.get(id, clientIdOf(res)) : undefined;
    if (!job || job.kind !== 'csv-sum') {
      throw new AppError('not_found', `task ${id} does not exist`, { status: 404 });
    }
    const view = toApiJob(job);
    res.json({
      task_id: view.id,
      status: view.status,
      progress: view.progress,
      result: view.result,
      error: view.error,
      created_at: view.createdAt,
      finished_at: view.finishedAt,
    });
  });

  return router;
}
