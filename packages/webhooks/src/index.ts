export * from './delivery-store.js';
export * from './webhook-signature.js';
export * from './delivery-batch.js';
export * from './delivery-id.js';
export * from './webhook-secret-store.js';
export * from './address-policy.js';
export * from './callback-url.js';
