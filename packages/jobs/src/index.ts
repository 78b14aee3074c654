export * from './job-record.js';
export * from './job-messages.js';
export * from './job-store.js';
export * from './delivery-store.js';
export * from './webhook-signature.js';
export * from './delivery-batch.js';
export * from './delivery-id.js';
export * from './webhook-secret-store.js';
