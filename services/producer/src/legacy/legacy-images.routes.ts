import type { JobRecord } from '@conveyor/jobs';
import { AppError } from '@conveyor/platform';
import express, { type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { celeryStateOf } from './legacy-status.js';
import { clientIdOf } from '../auth/auth.js';
import { acceptImage, sendResultImage, type ImageRoutesDeps } from '../images/images.routes.js';

/** Where the image service's routes live: its errors answer in its own body. */
const IMAGE_SERVICE_PATHS = ['/api/v1/images', '/api/v1/status'];

/** An error body as the one error handler writes it. */
function isErrorBody(body: unknown): body is { error: { message: string } } {
  const error = (body as { error?: { message?: unknown } } | null)?.error;
  return typeof error === 'object' && error !== null && typeof error.message === 'string';
}

/**
 * Gives every error on the image service's paths its old body, `{"result":"error","message"}`
 * (what its clients and its own test suite check), keeping our `error` object beside it for
 * clients that want the code and details. It dresses the response rather than handling the
 * error, so the one error handler still decides status, logging and Retry-After, and it is
 * mounted ahead of authentication so a 401 is dressed too.
 */
export const legacyImageErrorBodies: RequestHandler = express
  .Router()
  .use(IMAGE_SERVICE_PATHS, (_req, res, next) => {
    const json = res.json.bind(res);
    res.json = (body: unknown) =>
      json(
        res.statusCode >= 400 && isErrorBody(body)
          ? { result: 'error', message: body.error.message, ...body }
          : body,
      );
    next();
  });

/**
 * The image-resize service's API, unchanged: `POST /api/v1/images/resize` (multipart file,
 * width, height) → 202 `{"status":"accepted","message":"Upload complete","task_id"}`;
 * `GET /api/v1/status/{uuid}` → `{"status"}` in Celery's words (SENT, STARTED, RETRY, FAILURE,
 * SUCCESS), 404 for an unknown task; `GET /api/v1/images/result/{uuid}` → the image, 404 until
 * it exists. Errors answer `{"result":"error","message"}` (see legacyImageErrorBodies).
 */
export function legacyImagesRouter(deps: ImageRoutesDeps): express.Router {
  const router = express.Router();

  router.post('/api/v1/images/resize', async (req, res) => {
    const { job } = await acceptImage(deps, req, res, { fit: 'cover' });
    res.status(202).json({ status: 'accepted', message: 'Upload complete', task_id: job.id });
  });

  /** The client's image job, or undefined (a malformed id, another client's job, another kind). */
  const imageJob = async (id: string, res: Response): Promise<JobRecord | undefined> => {
    const job = z.uuid().safeParse(id).success ? await deps.store.get(id, clientIdOf(res)) : undefined;
    return job?.kind === 'image-resize' ? job : undefined;
  };

  // The old service's messages, word for word.
  router.get('/api/v1/status/:id', async (req, res) => {
    const job = await imageJob(req.params.id, res);
    if (!job) throw new AppError('not_found', 'Task not found', { status: 404 });
    res.json({ status: celeryStateOf(job) });
  });

  router.get('/api/v1/images/result/:id', async (req, res) => {
    const job = await imageJob(req.params.id, res);
    if (!job || celeryStateOf(job) !== 'SUCCESS')
      throw new AppError('not_found', 'Result not found', { status: 404 });
    // A result dropped after its retention is a 410 there.
    await sendResultImage(deps, req, res, job);
  });

  return router;
}
