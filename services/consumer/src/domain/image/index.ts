export { configureSharp } from './configure-sharp.js';
export { ImageError, type ImageErrorCode } from './image-error.js';
export {
  DEFAULT_IMAGE_LIMITS,
  FIT_MODES,
  OUTPUT_FORMATS,
  resizeRequestSchema,
  type FitMode,
  type ImageLimits,
  type OutputFormat,
  type ResizeRequest,
} from './image-options.js';
export { CONTENT_TYPES } from './output-format.js';
export { resizeImage, type ResizedImage, type ResizeImageOptions } from './resize-image.js';
export { SNIFF_BYTES, sniffImageFormat, type ImageFormat } from './sniff-format.js';
