// Public surface of @conveyor/testkit: helpers for integration tests. Exports only.
export * from './fault-proxy.js';
export * from './isolation.js';
export * from './wait-for.js';
export * from './service-process.js';
export * from './broker-probe.js';
export * from './http-stub.js';
export * from './s3-server.js';
export * from './proxied-url.js';
export * from './migrated-database.js';
export * from './rabbitmq-cluster.js';
