// What a producer needs of the image-resize kind: the job's input and result, the resize
// options and limits, and the format sniffing of an upload's first bytes.
export * from './image-job.js';
export * from './image-options.js';
export * from './sniff-format.js';
