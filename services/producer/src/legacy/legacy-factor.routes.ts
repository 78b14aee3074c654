import { isJobOfKind } from '@conveyor/jobs';
import { AppError, requireJsonBody } from '@conveyor/platform';
import express, { type Response } from 'express';
import { z } from 'zod';
import { factorizationAnswer } from './legacy-status.js';
import { clientIdOf } from '../auth/auth.js';
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
export function legacyFactorRouter(deps: JobRoutesDeps): express.Router {
  const router = express.Router();

  // The old service's "just for test" route, which a load balancer may still probe.
  router.get('/', (_req, res) => {
    res.type('text/plain').send('Hello Factor app!\n');
  });

  router.post('/factor', requireJsonBody, async (req, res) => {
    const body: unknown = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new AppError('validation_failed', 'send a JSON object like {"number": 1234}', { status: 400 });
    }
    const { job } = await submitJob(deps, res, {
      kind: 'factorize',
      input: { number: 'number' in body ? body.number : undefined },
    });
    res.status(202).json({ task_id: job.id });
  });

  router.get('/get/:taskId', async (req, res) => {
    const taskId = req.params.taskId;
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
  });

  return router;
}
