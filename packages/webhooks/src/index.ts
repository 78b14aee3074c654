export * from './webhook-delivery-store.js';
export * from './webhook-payload.js';
export * from './webhook-signature.js';
export * from './webhook-secret-store.js';
export * from './address-policy.js';
export * from './callback-url.js';
