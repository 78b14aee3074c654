export * from './envelope.js';
export * from './messages.js';
export * from './http.js';
export * from './topology.js';
export * from './jobs.js';
export * from './factorize-input.js';
export * from './csv-sum-input.js';
