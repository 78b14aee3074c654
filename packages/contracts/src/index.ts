export * from './envelope.js';
export * from './messages.js';
export * from './http.js';
export * from './topology.js';
export * from './jobs.js';
export * from './outgoing-message.js';
export * from './nul-characters.js';
export * from './job-kind-policy.js';
