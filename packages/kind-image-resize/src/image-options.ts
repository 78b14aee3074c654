import { z } from 'zod';

export const FIT_MODES = ['cover', 'contain', 'inside', 'fill'] as const;
/**
 * How the image meets the requested box: `cover` crops to fill it exactly, `contain` fits inside
 * and letterboxes to exactly width × height, `inside` fits inside without padding (the result may
 * be smaller on one side), `fill` stretches to exactly width × height ignoring the aspect ratio.
 */
export type FitMode = (typeof FIT_MODES)[number];

export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface ResizeRequest {
  width: number;
  height: number;
  fit: FitMode;
  /** Default: the input's format when it is an output format, else jpeg. */
  format?: OutputFormat;
  /** Encoder quality 1..100 for jpeg, webp and avif (png is lossless and ignores it). Default: the encoder's. */
  quality?: number;
  /** Keep EXIF, ICC and XMP. Default false: strip them, as they can carry GPS position and camera serials. */
  keepMetadata?: boolean;
}

export interface ImageLimits {
  /** Largest requested width or height (IMAGE_MAX_DIMENSION). */
  maxDimension: number;
  /** Largest decoded input, width × height: a 1 MB PNG can declare 20000×20000 and need 1.2 GB to decode. */
  maxInputPixels: number;
  /** Largest input file, in bytes. */
  maxInputBytes: number;
}

export const DEFAULT_IMAGE_LIMITS: Readonly<ImageLimits> = {
  maxDimension: 8192,
  maxInputPixels: 50_000_000,
  maxInputBytes: 50 * 1024 * 1024,
};

/**
 * Validates a resize request as it arrives: JSON values or multipart fields, which are all
 * strings. Numbers are accepted as digits only ("1e3", "" and "12.5" are refused rather than
 * coerced), booleans as true/false/1/0, and a blank optional field counts as absent, which is
 * what HTML forms send for an unset field. Messages name the field, e.g. "width must be …".
 * With `defaultFit`, `fit` may be left out.
 */
export function resizeRequestSchema(limits: ImageLimits, defaultFit?: FitMode) {
  const fit = z.enum(FIT_MODES, { error: `fit must be one of ${FIT_MODES.join(', ')}` });
  return z.strictObject({
    width: wholeNumber('width', 1, limits.maxDimension),
    height: wholeNumber('height', 1, limits.maxDimension),
    fit: defaultFit === undefined ? fit : fit.default(defaultFit),
    format: blankAsAbsent(
      z.enum(OUTPUT_FORMATS, { error: `format must be one of ${OUTPUT_FORMATS.join(', ')}` }),
    ),
    quality: blankAsAbsent(wholeNumber('quality', 1, 100)),
    keepMetadata: blankAsAbsent(flag('keepMetadata')),
  }) satisfies z.ZodType<ResizeRequest>;
}

function wholeNumber(field: string, min: number, max: number) {
  const error = `${field} must be a whole number from ${min} to ${max}`;
  return z.preprocess(
    (value) => (typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value),
    z.number({ error }).int({ error }).min(min, { error }).max(max, { error }),
  );
}

function flag(field: string) {
  return z
    .union([z.boolean(), z.enum(['true', 'false', '1', '0'])], { error: `${field} must be true or false` })
    .transform((value) => value === true || value === 'true' || value === '1');
}

function blankAsAbsent<T extends z.ZodType>(schema: T) {
  return z.preprocess((value) => (value === '' ? undefined : value), schema.optional());
}
