export * from './cron-ticks.js';
export * from './due-jobs.js';
export * from './schedule-record.js';
export * from './schedule.store.js';
export * from './schedule-ticker.js';
