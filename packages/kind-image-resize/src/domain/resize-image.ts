import sharp, { type Metadata } from 'sharp';
import { fromSharpError, ImageError, SUPPORTED_INPUTS } from './image-error.js';
import type { ImageLimits, OutputFormat, ResizeRequest } from '../contract.js';
import { backgroundFor, CONTENT_TYPES, defaultOutputFormat, encode } from './output-format.js';
import { type ImageFormat, SNIFF_BYTES, sniffImageFormat } from '../contract.js';

export interface ResizedImage {
  data: Buffer;
  format: OutputFormat;
  contentType: string;
  width: number;
  height: number;
  inputFormat: ImageFormat;
  /** Input size as displayed, i.e. after its EXIF orientation is applied. */
  inputWidth: number;
  inputHeight: number;
}

export interface ResizeImageOptions {
  signal?: AbortSignal;
}

/**
 * Resizes one image held in memory; reading and writing it is the caller's business.
 *
 * Untrusted input is handled thus:
 * - the format is sniffed from the bytes, never taken from the name or declared type;
 * - the pixel count is limited before decoding (`limitInputPixels`: a small file can declare a
 *   huge image), and truncated or corrupt data fails (`failOn: 'error'`) instead of coming out
 *   part grey. Mere warnings, such as junk after the end of a JPEG, still pass: cameras write them;
 * - EXIF orientation is applied, then metadata is stripped unless `keepMetadata`;
 * - animated GIF and WebP are refused (`animated_not_supported`). Taking the first frame would
 *   silently turn an animation into a still, which the client did not ask for, and resizing every
 *   frame would multiply time and memory by the frame count, into formats (JPEG) that cannot
 *   animate. Multi-page TIFF and multi-image HEIF are documents and bursts rather than
 *   animations: their first page / primary image is used.
 *
 * Every failure is an {@link ImageError}, except an abort, which rejects with `signal.reason`.
 * libvips cannot be interrupted once a pipeline runs, so the signal is checked before decoding,
 * between reading the header and decoding the pixels, and after encoding; an abort during the
 * encode is noticed when it ends (a fraction of a second within the limits) and the result dropped.
 */
export async function resizeImage(
  input: Buffer,
  request: ResizeRequest,
  limits: ImageLimits,
  options: ResizeImageOptions = {},
): Promise<ResizedImage> {
  const { signal } = options;
  signal?.throwIfAborted();
  checkDimensions(request, limits);
  const inputFormat = checkInput(input, limits);

  const image = sharp(input, { failOn: 'error', limitInputPixels: limits.maxInputPixels, autoOrient: true });
  const header = await fromSharp(image.metadata(), limits);
  checkDecodable(header, inputFormat);
  signal?.throwIfAborted();

  const format = request.format ?? defaultOutputFormat(inputFormat);
  const resized = image.resize(request.width, request.height, {
    fit: request.fit,
    background: backgroundFor(format),
  });
  const pipeline = encode(request.keepMetadata ? resized.keepMetadata() : resized, format, request.quality);
  const { data, info } = await fromSharp(pipeline.toBuffer({ resolveWithObject: true }), limits);
  signal?.throwIfAborted();

  return {
    data,
    format,
    contentType: CONTENT_TYPES[format],
    width: info.width,
    height: info.height,
    inputFormat,
    inputWidth: header.autoOrient.width,
    inputHeight: header.autoOrient.height,
  };
}

/** The request schema already guarantees this; checked again because a bad size would reach libvips. */
function checkDimensions({ width, height }: ResizeRequest, { maxDimension }: ImageLimits): void {
  for (const [field, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > maxDimension) {
      throw new ImageError(
        'invalid_dimensions',
        `${field} must be a whole number from 1 to ${maxDimension}, got ${value}`,
      );
    }
  }
}

function checkInput(input: Buffer, limits: ImageLimits): ImageFormat {
  if (input.length > limits.maxInputBytes) {
    throw new ImageError(
      'input_too_large',
      `the file is ${input.length.toLocaleString('en')} bytes; the limit is ${limits.maxInputBytes.toLocaleString('en')}`,
    );
  }
  const format = sniffImageFormat(input.subarray(0, SNIFF_BYTES));
  if (format === undefined) {
    throw new ImageError(
      'unsupported_format',
      `the file is not an image in a supported format; send ${SUPPORTED_INPUTS}`,
    );
  }
  return format;
}

function checkDecodable(header: Metadata, format: ImageFormat): void {
  const frames = header.pages ?? 1;
  if ((format === 'gif' || format === 'webp') && frames > 1) {
    throw new ImageError(
      'animated_not_supported',
      `animated ${format.toUpperCase()} (${frames} frames) is not supported; upload a still image, e.g. one frame exported as PNG`,
    );
  }
  // The bundled libheif decodes AV1 only; HEVC (most phone HEIC photos) is patent-encumbered.
  if (format === 'heif' && header.compression !== 'av1') {
    throw new ImageError(
      'unsupported_format',
      `HEIF images coded with ${header.compression ?? 'this codec'} (HEIC) are not supported; convert to JPEG or AVIF first`,
    );
  }
}

async function fromSharp<T>(step: Promise<T>, limits: ImageLimits): Promise<T> {
  try {
    return await step;
  } catch (error) {
    throw fromSharpError(error, limits);
  }
}
