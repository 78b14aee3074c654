/** `pnpm client:create <name>`: registers an API client and prints its key (shown once). */
import { createDatabase, migrateToLatest } from '@conveyor/database';
import { createLogger, loadConfigOrExit, withDotenv } from '@conveyor/platform';
import { createApiClient } from '../adapters/api-client.repository.js';
import { ProducerEnv } from '../config.js';

const name = process.argv[2];
if (!name) {
  process.stderr.write('usage: pnpm client:create <name>\n');
  process.exit(2);
}
const config = loadConfigOrExit('client:create', ProducerEnv, withDotenv(process.env));
const log = createLogger({ service: 'client:create', level: 'warn', format: 'pretty' });
const database = createDatabase({
  url: config.DATABASE_URL,
  schema: config.DATABASE_SCHEMA,
  poolMax: 1,
  log,
});
await migrateToLatest(database.db, config.DATABASE_SCHEMA, log);
const client = await createApiClient(database.db, name);
process.stdout.write(
  `${JSON.stringify({ clientId: client.id, apiKey: client.apiKey, webhookSecret: client.webhookSecret })}\n`,
);
await database.close();
