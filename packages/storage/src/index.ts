// Public surface of @conveyor/storage. Exports only.
export * from './blob-store.js';
export { validateLocalPath } from './local-path.js';
export * from './local-blob-store.js';
export * from './s3-blob-store.js';
export * from './storage-config.js';
