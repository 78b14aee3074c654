// Where the bench scripts find the repository and the client libraries they drive the services with.
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/lib/ is two levels down). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// The bench is no workspace package of its own: it borrows pg and amqplib from packages/testkit,
// which depends on both, so it uses the same versions as the integration tests.
const requireFromTestkit = createRequire(resolve(ROOT, 'packages/testkit/package.json'));
export const amqp = requireFromTestkit('amqplib');
export const pg = requireFromTestkit('pg');
