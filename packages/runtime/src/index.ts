export * from './service-core.js';
export * from './worker-task-pool.js';
