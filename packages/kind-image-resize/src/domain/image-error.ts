import type { ImageLimits } from '../contract.js';

export type ImageErrorCode =
  | 'unsupported_format'
  | 'corrupt_image'
  | 'too_many_pixels'
  | 'animated_not_supported'
  | 'invalid_dimensions'
  | 'input_too_large';

/** A resize refused or failed because of the input or the request; the message tells the client what to send instead. */
export class ImageError extends Error {
  override readonly name = 'ImageError';
  readonly code: ImageErrorCode;

  constructor(code: ImageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export const SUPPORTED_INPUTS = 'JPEG, PNG, WebP, AVIF, GIF or TIFF';

/**
 * Every failure out of sharp becomes an ImageError. libvips reports by message only, so the two
 * it has distinct wording for are matched; everything else (premature end of data, bad CRC,
 * corrupt header, …) is a decoder giving up on the bytes: `corrupt_image`, with libvips's own
 * words kept in the message and the original error as the cause.
 */
export function fromSharpError(error: unknown, limits: ImageLimits): ImageError {
  if (error instanceof ImageError) return error;
  const detail = describeVipsMessage(error instanceof Error ? error.message : String(error));
  if (detail.includes('exceeds pixel limit')) {
    return new ImageError(
      'too_many_pixels',
      `the image has more than ${limits.maxInputPixels.toLocaleString('en')} pixels (width × height); scale it down before uploading`,
      { cause: error },
    );
  }
  if (detail.includes('unsupported image format')) {
    return new ImageError(
      'unsupported_format',
      `the image format is not supported; send ${SUPPORTED_INPUTS}`,
      { cause: error },
    );
  }
  return new ImageError(
    'corrupt_image',
    `the image could not be decoded, it is probably truncated or corrupt (${detail}); re-export the original and upload it again`,
    { cause: error },
  );
}

/** libvips messages span several lines and repeat themselves: one line each, in order. */
function describeVipsMessage(message: string): string {
  const lines = message
    .split('\n')
    .map((line) => line.trim().replace(/:$/, ''))
    .filter((line) => line !== '');
  return [...new Set(lines)].join('; ');
}
