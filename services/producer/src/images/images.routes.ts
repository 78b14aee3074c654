import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { isJobOfKind } from '@conveyor/jobs';
import {
  resizeRequestSchema,
  type ImageLimits,
  type ImageResizeInput,
} from '@conveyor/kind-image-resize/contract';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Job, SubmitJobRequest } from '@conveyor/contracts';
import { toApiJob, type JobRecord } from '@conveyor/jobs';
import { AppError, type ErrorDetail } from '@conveyor/platform';
import { StorageError, type BlobLocation, type BlobStore } from '@conveyor/storage';
import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import { receiveImageUpload } from './image-upload.js';
import { clientIdOf } from '../auth/auth.js';
import { validateCallbackUrl } from '../jobs/callback-url.js';
import { defineRoute, jsonResponse } from '../http/api-route.js';
import { JobIdParams, notFound, submitJob, type JobRoutesDeps } from '../jobs/jobs.routes.js';

export interface ImageRoutesDeps extends JobRoutesDeps {
  images: BlobStore;
  bucket: string;
  limits: JobRoutesDeps['limits'] & { image: ImageLimits; maxUploadBytes: number };
}

/**
 * One schema per limits object, built on first use: zod compiles a schema when it is created,
 * and building it for every upload cost about a tenth of the producer's CPU per image.
 */
const resizeSchemas = new WeakMap<ImageLimits, ReturnType<typeof resizeRequestSchema>>();
function resizeSchemaFor(limits: ImageLimits) {
  let schema = resizeSchemas.get(limits);
  if (schema === undefined) {
    // Both upload routes resize to cover the box unless the form says otherwise.
    schema = resizeRequestSchema(limits, 'cover');
    resizeSchemas.set(limits, schema);
  }
  return schema;
}

/** The job-request fields a form may carry, checked by the same schemas as the JSON route's body. */
const FormJobFields = SubmitJobRequest.pick({ customId: true, callbackUrl: true, runAt: true }).extend({
  delayMs: z.coerce.number().int().nonnegative().optional(),
});

/** The upload form as the document shows it: parseFormFields checks its fields with these schemas. */
export function uploadForm(limits: ImageLimits): z.ZodType {
  return z.strictObject({
    file: z.string().meta({
      format: 'binary',
      description: 'The image: jpeg, png, webp, gif, avif, heif or tiff (told from its bytes)',
    }),
    ...FormJobFields.shape,
    ...resizeSchemaFor(limits).shape,
  });
}

/** The refusals of an upload, beside its route's own (see image-upload.ts and parseFormFields). */
export const UPLOAD_REFUSALS = {
  400: '`malformed_multipart`, `too_many_files`, `too_many_fields`, `request_aborted` or `invalid_callback_url`',
  409: '`custom_id_conflict`: customId already used with a different request',
  413: '`file_too_large` (IMAGE_MAX_UPLOAD_BYTES) or `field_too_large`',
  415: '`unsupported_media_type` (not multipart/form-data) or `unsupported_image`',
  422: '`validation_failed` (a bad or unknown form field), `missing_file`, `unexpected_file` or `empty_file_name`',
  429: "`rate_limited` or `too_many_jobs_in_flight`: this client's limits; try again after `Retry-After`",
};

/** A form's fields as a resize request and job options; 422 names every bad or unknown field. */
function parseFormFields(limits: ImageLimits, defaults: { fit: string }, fields: Record<string, string>) {
  const { customId, callbackUrl, runAt, delayMs, ...resizeFields } = fields;
  // A blank field counts as absent: what an HTML form sends for an unset input.
  const resize = resizeSchemaFor(limits).safeParse({ fit: defaults.fit, ...resizeFields });
  const job = FormJobFields.safeParse({
    customId: customId || undefined,
    callbackUrl: callbackUrl || undefined,
    runAt: runAt || undefined,
    delayMs: delayMs || undefined,
  });
  if (resize.success && job.success) {
    if (job.data.callbackUrl !== undefined) validateCallbackUrl(job.data.callbackUrl, 'callbackUrl');
    return { resize: resize.data, job: job.data };
  }
  const issues = [...(resize.error?.issues ?? []), ...(job.error?.issues ?? [])];
  const details = issues.flatMap((issue): ErrorDetail[] => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: key, message: `unknown form field "${key}"` }));
    const path = issue.path.join('.') || 'form';
    // The resize schema's messages start with the field's name; the job schema's do not.
    return [{ path, message: issue.message.startsWith(path) ? issue.message : `${path}: ${issue.message}` }];
  });
  throw new AppError('validation_failed', details.map((d) => d.message).join('; '), { status: 422, details });
}

/** Reads a multipart upload into a stored original and the job input; 422 names a bad field. */
export async function acceptImage(
  deps: ImageRoutesDeps,
  req: Request,
  res: Response,
  defaults: { fit: string },
) {
  const { fields, file } = await receiveImageUpload(req, deps.images, {
    bucket: deps.bucket,
    maxBytes: deps.limits.maxUploadBytes,
  });
  if (!file)
    throw new AppError('missing_file', 'send the image in a "file" part', {
      status: 422,
      details: [{ path: 'file', message: 'required' }],
    });
  try {
    const { resize, job } = parseFormFields(deps.limits.image, defaults, fields);
    const input: ImageResizeInput = {
      original: file.location,
      originalFormat: file.format,
      originalBytes: file.bytes,
      fileName: file.fileName,
      ...resize,
      keepMetadata: resize.keepMetadata ?? false,
    };
    return await submitJob(deps, res, { kind: 'image-resize', input, ...job }, 'body.input', '');
  } catch (error) {
    await deps.images.delete(file.location).catch(() => undefined);
    throw error;
  }
}

/**
 * Opens a stored result before anything is sent: a blob deleted by expiry since the job was read
 * is a 410 the client can act on, not a reset connection. Opening reads the first chunk (the
 * local store opens the file, S3 sends the GET), and an open file stays readable even if
 * unlinked afterwards.
 */
async function openResult(
  store: BlobStore,
  job: JobRecord,
  location: BlobLocation,
): Promise<AsyncIterable<Uint8Array> & { close(): Promise<void> }> {
  const iterator = store.read(location)[Symbol.asyncIterator]();
  let first: IteratorResult<Uint8Array>;
  try {
    first = await iterator.next();
  } catch (error) {
    if (error instanceof StorageError && error.code === 'not_found') throw expired(job);
    throw error;
  }
  return {
    async *[Symbol.asyncIterator]() {
      if (first.done) return;
      yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    },
    // Closes the blob whether or not streaming began (a response closed before it started).
    close: async () => void (await iterator.return?.()),
  };
}

const expired = (job: JobRecord) =>
  new AppError('result_expired', `the result of job ${job.id} has expired and was deleted`, { status: 410 });

/** Streams a finished job's image with the headers a cache and a browser need. */
export async function sendResultImage(
  deps: ImageRoutesDeps,
  req: Request,
  res: Response,
  job: JobRecord,
): Promise<void> {
  if (job.expired) throw expired(job);
  if (!isJobOfKind(job, 'image-resize') || job.status !== 'succeeded' || job.result === null) {
    throw new AppError('result_not_ready', `job ${job.id} has no image to download (status ${job.status})`, {
      status: 404,
    });
  }
  const result = job.result;
  const etag = `"${result.etag}"`;
  const maxAgeSeconds = job.expiresAt
    ? Math.max(0, Math.floor((job.expiresAt.getTime() - Date.now()) / 1000))
    : 0;
  const setCacheHeaders = () => {
    res.setHeader('ETag', etag);
    res.setHeader('Cache-Control', `private, max-age=${maxAgeSeconds}, immutable`);
  };
  if (req.get('if-none-match') === etag) {
    setCacheHeaders();
    res.status(304).end();
    return;
  }
  // Cache headers only once the image is there: an error answer must not be cached as immutable.
  const image = await openResult(deps.images, job, result.location);
  try {
    setCacheHeaders();
    res.setHeader('Content-Type', result.contentType);
    res.setHeader('Content-Length', String(result.bytes));
    await pipeline(Readable.from(image), res);
  } finally {
    await image.close();
  }
}

/** `POST /v1/images` (upload, resize later) and `GET /v1/jobs/{id}/result` (download). */
export function imagesRouter(deps: ImageRoutesDeps, registry: OpenAPIRegistry): express.Router {
  const router = express.Router();

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/v1/images',
      operationId: 'uploadImage',
      summary: 'Upload an image to resize (multipart/form-data): an image-resize job',
      tags: ['images'],
      access: 'key',
      documentedBody: {
        required: true,
        content: { 'multipart/form-data': { schema: uploadForm(deps.limits.image) } },
      },
      responses: {
        202: jsonResponse(Job, 'Accepted: the image is stored and the job committed'),
        200: jsonResponse(Job, 'The existing job with this customId and the same request'),
      },
      errors: UPLOAD_REFUSALS,
    },
    async (_input, req, res) => {
      const { job, created } = await acceptImage(deps, req, res, { fit: 'cover' });
      if (created) res.setHeader('Location', `/v1/jobs/${job.id}`);
      res.status(created ? 202 : 200).json(toApiJob(job));
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/jobs/{id}/result',
      operationId: 'downloadJobResult',
      summary: "Download an image-resize job's image",
      tags: ['images'],
      access: 'key',
      params: JobIdParams,
      headers: IfNoneMatch,
      responses: RESULT_IMAGE_RESPONSES,
      errors: {
        404: '`not_found` (no such job, or not yours) or `result_not_ready` (not an image job that succeeded)',
        410: '`result_expired`: the result was deleted after its retention',
      },
    },
    async ({ params: { id } }, req, res) => {
      const job = z.uuid().safeParse(id).success ? await deps.store.get(id, clientIdOf(res)) : undefined;
      if (!job) throw notFound(id);
      await sendResultImage(deps, req, res, job);
    },
  );

  return router;
}

const IfNoneMatch = z.object({
  'If-None-Match': z
    .string()
    .optional()
    .meta({ description: 'The ETag of a copy held: 304 when it is still the image' }),
});

/** A result image's answers: the image with its cache headers, or 304 for the copy the client holds. */
export const RESULT_IMAGE_RESPONSES = {
  200: {
    description: 'The image, cacheable until the result expires',
    headers: z.object({
      ETag: z.string().meta({ description: "The image's entity tag" }),
      'Cache-Control': z
        .string()
        .meta({ description: '`private, max-age=<seconds until it expires>, immutable`' }),
    }),
    content: { 'image/*': { schema: z.string().meta({ format: 'binary' }) } },
  },
  304: { description: 'Not modified: the ETag in If-None-Match is the image' },
};
