export * from './job-record.js';
export * from './job-messages.js';
export * from './job-store.js';
export * from './kinds/job-kind-registry.js';
export * from './kinds/worker-host-registry.js';
export * from './kinds/json-schema-validator.js';
export * from './job-catalog.js';
