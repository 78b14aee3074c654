export * from './service-core.js';
