export { configureSharp } from './configure-sharp.js';
export { ImageError, type ImageErrorCode } from './image-error.js';
export { resizeImage, type ResizedImage, type ResizeImageOptions } from './resize-image.js';
