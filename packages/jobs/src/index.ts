export * from './job-record.js';
export * from './job-messages.js';
export * from './job-store.js';
