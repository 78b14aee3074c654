import type { ImageLimits, ImageResizeInput, ImageResizeResult } from '@conveyor/contracts';
import { StorageError, type BlobLocation, type BlobStore } from '@conveyor/storage';
import type { ConcurrencyLimit } from '@conveyor/platform';
import { ImageError, resizeImage } from './domain/index.js';
import { builtInWork } from '../job-runner/built-in-work.js';
import type { JobWork } from '../job-runner/job.consumer.js';

const EXTENSIONS = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' } as const;
/** Storage failures that retrying cannot fix. */
const PERMANENT_STORAGE_CODES = new Set([
  'not_found',
  'invalid_location',
  'path_outside_root',
  'storage_refused',
]);

/**
 * The original whole, in one read. Handing sharp the file path instead measured slower (1080p →
 * 100×100: about 1.4 ms more CPU per image than the same bytes from memory).
 */
async function readOriginal(
  store: BlobStore,
  input: ImageResizeInput,
  limits: ImageLimits,
  signal: AbortSignal,
): Promise<Buffer> {
  try {
    return await store.readAll(input.original, { maxBytes: limits.maxInputBytes, signal });
  } catch (error) {
    if (error instanceof StorageError && error.code === 'too_large') {
      throw new ImageError('input_too_large', `the original is larger than ${limits.maxInputBytes} bytes`, {
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Resizes a stored original with sharp (libvips runs on libuv's thread pool, off the event
 * loop) and stores the result under a key derived from the job id, so a redelivered job
 * overwrites the same blob instead of writing a second one. Reading the original and writing the
 * result happen outside `resizes`, so they overlap other jobs' resizes.
 */
export function imageResizeWork(
  store: BlobStore,
  bucket: string,
  limits: ImageLimits,
  resizes: ConcurrencyLimit,
): JobWork {
  return builtInWork('image-resize', async (job, ctx) => {
    const { input } = job;
    try {
      const original = await readOriginal(store, input, limits, ctx.signal);
      ctx.reportProgress(0.3, 'original read');
      const request = {
        width: input.width,
        height: input.height,
        fit: input.fit,
        format: input.format,
        quality: input.quality,
        keepMetadata: input.keepMetadata,
      };
      const resized = await resizes.run(
        () => resizeImage(original, request, limits, { signal: ctx.signal }),
        ctx.signal,
      );
      ctx.reportProgress(0.8, 'resized');
      const location: BlobLocation = { bucket, key: `results/${job.id}.${EXTENSIONS[resized.format]}` };
      const stored = await store.write(location, resized.data, {
        contentType: resized.contentType,
        signal: ctx.signal,
      });
      const result: ImageResizeResult = {
        location,
        contentType: resized.contentType,
        format: resized.format,
        width: resized.width,
        height: resized.height,
        bytes: resized.data.length,
        etag: stored.etag.replaceAll('"', ''),
      };
      return { type: 'succeeded', result };
    } catch (error) {
      if (ctx.signal.aborted) return { type: 'cancelled' };
      if (error instanceof ImageError)
        return { type: 'failed', error: { code: error.code, message: error.message }, permanent: true };
      if (error instanceof StorageError)
        return {
          type: 'failed',
          error: { code: error.code, message: error.message },
          permanent: PERMANENT_STORAGE_CODES.has(error.code),
        };
      throw error;
    }
  });
}
