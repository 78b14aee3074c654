// The image-resize kind, for the host that runs it; producers import only './contract'.
export * from './contract.js';
export { imageResizeJob, type ImageResizeJobSettings } from './image-resize.job.js';
export { configureSharp } from './domain/index.js';
