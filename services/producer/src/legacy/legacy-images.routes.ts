import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { ErrorBody } from '@conveyor/contracts';
import type { JobRecord } from '@conveyor/jobs';
import { AppError } from '@conveyor/platform';
import express, { type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { CeleryStatus, celeryStateOf } from './legacy-status.js';
import { clientIdOf } from '../auth/auth.js';
import { defineRoute, jsonResponse } from '../http/api-route.js';
import {
  acceptImage,
  RESULT_IMAGE_RESPONSES,
  sendResultImage,
  UPLOAD_REFUSALS,
  uploadForm,
  type ImageRoutesDeps,
} from '../images/images.routes.js';

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
export function legacyImagesRouter(deps: ImageRoutesDeps, registry: OpenAPIRegistry): express.Router {
  const router = express.Router();

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/api/v1/images/resize',
      operationId: 'legacyUploadImage',
      summary: 'Old image API: upload an image to resize (multipart: file, width, height)',
      tags: ['legacy'],
      access: 'key',
      documentedBody: {
        required: true,
        content: { 'multipart/form-data': { schema: uploadForm(deps.limits.image) } },
      },
      responses: { 202: jsonResponse(LegacyUploadAccepted, 'Accepted') },
      errors: UPLOAD_REFUSALS,
      errorBody: LegacyImageErrorBody,
    },
    async (_input, req, res) => {
      const { job } = await acceptImage(deps, req, res, { fit: 'cover' });
      const accepted: LegacyUploadAccepted = {
        status: 'accepted',
        message: 'Upload complete',
        task_id: job.id,
      };
      res.status(202).json(accepted);
    },
  );

  /** The client's image job, or undefined (a malformed id, another client's job, another kind). */
  const imageJob = async (id: string, res: Response): Promise<JobRecord | undefined> => {
    const job = z.uuid().safeParse(id).success ? await deps.store.get(id, clientIdOf(res)) : undefined;
    return job?.kind === 'image-resize' ? job : undefined;
  };

  // The old service's messages, word for word.
  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/api/v1/status/{id}',
      operationId: 'legacyGetImageStatus',
      summary: "Old image API: a task's status in Celery's words",
      tags: ['legacy'],
      access: 'key',
      params: TaskIdParams,
      responses: { 200: jsonResponse(CeleryStatus, 'SENT, STARTED, RETRY, FAILURE or SUCCESS') },
      errors: { 404: '`not_found`: "Task not found"' },
      errorBody: LegacyImageErrorBody,
    },
    async ({ params: { id } }, _req, res) => {
      const job = await imageJob(id, res);
      if (!job) throw new AppError('not_found', 'Task not found', { status: 404 });
      res.json({ status: celeryStateOf(job) });
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/api/v1/images/result/{id}',
      operationId: 'legacyDownloadImage',
      summary: 'Old image API: the resized image',
      tags: ['legacy'],
      access: 'key',
      params: TaskIdParams,
      responses: RESULT_IMAGE_RESPONSES,
      errors: {
        404: '`not_found`: "Result not found" (no such task, or not done)',
        410: '`result_expired`: the result was deleted after its retention',
      },
      errorBody: LegacyImageErrorBody,
    },
    async ({ params: { id } }, req, res) => {
      const job = await imageJob(id, res);
      if (!job || celeryStateOf(job) !== 'SUCCESS')
        throw new AppError('not_found', 'Result not found', { status: 404 });
      // A result dropped after its retention is a 410 there.
      await sendResultImage(deps, req, res, job);
    },
  );

  return router;
}

const TaskIdParams = z.object({ id: z.string().meta({ description: 'The task id the upload answered' }) });

/** `POST /api/v1/images/resize`'s answer. */
const LegacyUploadAccepted = z.object({
  status: z.literal('accepted'),
  message: z.literal('Upload complete'),
  task_id: z.uuid(),
});
type LegacyUploadAccepted = z.infer<typeof LegacyUploadAccepted>;

/** The image service's error body: its own fields beside ours (see legacyImageErrorBodies). */
const LegacyImageErrorBody = ErrorBody.extend({
  result: z.literal('error'),
  message: z.string().meta({ description: "The error's message, as the old service put it" }),
}).meta({ id: 'LegacyImageErrorBody' });
