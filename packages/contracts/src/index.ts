export * from './envelope.js';
export * from './messages.js';
export * from './http.js';
export * from './topology.js';
