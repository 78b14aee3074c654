import type { Sharp } from 'sharp';
import type { ImageFormat } from '../contract.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../contract.js';

export const CONTENT_TYPES: Readonly<Record<OutputFormat, string>> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
};

/** Pixels that are not covered by the image (contain's letterbox, flattened transparency). */
const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };
const TRANSPARENT = { r: 255, g: 255, b: 255, alpha: 0 };

/** Keep the input's format when we can write it; GIF, TIFF and HEIF become JPEG. */
export function defaultOutputFormat(input: ImageFormat): OutputFormat {
  return isOutputFormat(input) ? input : 'jpeg';
}

function isOutputFormat(format: string): format is OutputFormat {
  return (OUTPUT_FORMATS as readonly string[]).includes(format);
}

/** Letterbox colour: transparent where the format has alpha, white for JPEG. */
export function backgroundFor(format: OutputFormat): typeof WHITE {
  return format === 'jpeg' ? WHITE : TRANSPARENT;
}

/**
 * Encoder settings:
 * - JPEG with mozjpeg (trellis quantisation, optimised scans): about 30 % smaller files than
 *   libjpeg at the same quality, for several times the encode CPU. At thumbnail sizes that is
 *   noise next to decoding; at 800×600 it more than doubled the whole resize in
 *   bench/sharp-baseline.bench.mjs. Turn it off here first if large outputs are CPU-bound.
 * - PNG at zlib level 6: level 9 costs several times the CPU for a few per cent.
 * - AVIF at effort 2: the default 4 is several times slower, too slow for a job per upload.
 * JPEG has no alpha channel, so transparency is flattened onto white rather than left for
 * libvips to drop, which would show the transparent pixels' hidden colour (often black).
 */
export function encode(pipeline: Sharp, format: OutputFormat, quality: number | undefined): Sharp {
  switch (format) {
    case 'jpeg':
      return pipeline.flatten({ background: WHITE }).jpeg({ mozjpeg: true, quality });
    case 'png':
      return pipeline.png({ compressionLevel: 6 });
    case 'webp':
      return pipeline.webp({ quality });
    case 'avif':
      return pipeline.avif({ quality, effort: 2 });
  }
}
