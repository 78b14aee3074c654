import { z } from 'zod';
import { FIT_MODES, OUTPUT_FORMATS } from './image-options.js';

const BlobLocation = z.object({ bucket: z.string().optional(), key: z.string().min(1) });

/** `image-resize` job input as stored: where the upload went, and how to resize it. */
export const ImageResizeInput = z.object({
  original: BlobLocation,
  originalFormat: z.string(),
  originalBytes: z.number().int().nonnegative(),
  fileName: z.string().nullable(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  fit: z.enum(FIT_MODES),
  format: z.enum(OUTPUT_FORMATS).optional(),
  quality: z.number().int().min(1).max(100).optional(),
  keepMetadata: z.boolean().default(false),
});
export type ImageResizeInput = z.infer<typeof ImageResizeInput>;

/** `image-resize` job result: the stored image; download it from /v1/jobs/{id}/result. */
export const ImageResizeResult = z.object({
  location: BlobLocation,
  contentType: z.string(),
  format: z.enum(OUTPUT_FORMATS),
  width: z.number().int(),
  height: z.number().int(),
  bytes: z.number().int(),
  etag: z.string(),
});
export type ImageResizeResult = z.infer<typeof ImageResizeResult>;
