export * from './database.js';
export * from './schema.js';
export * from './database-unavailable.js';
export * from './outbox/outbox.repository.js';
export * from './outbox/outbox-relay.js';
export * from './notification-listener.js';
// Services build queries with kysely through this package, so every one uses its exact version.
export { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
