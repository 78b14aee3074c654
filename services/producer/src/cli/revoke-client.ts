/**
 * `pnpm client:revoke <client id or API key>`: revokes a client's API key. Every running
 * producer forgets it at once (see revokeApiClient); the client's jobs stay.
 */
import { createDatabase, migrateToLatest } from '@conveyor/database';
import { createLogger, loadConfigOrExit, withDotenv } from '@conveyor/platform';
import { revokeApiClient } from '../adapters/api-client.repository.js';
import { ProducerEnv } from '../config.js';

const clientIdOrKey = process.argv[2];
if (!clientIdOrKey) {
  process.stderr.write('usage: pnpm client:revoke <client id or API key>\n');
  process.exit(2);
}
const config = loadConfigOrExit('client:revoke', ProducerEnv, withDotenv(process.env));
const log = createLogger({ service: 'client:revoke', level: 'warn', format: 'pretty' });
const database = createDatabase({
  url: config.DATABASE_URL,
  schema: config.DATABASE_SCHEMA,
  poolMax: 1,
  log,
});
await migrateToLatest(database.db, config.DATABASE_SCHEMA, log);
const revocation = await revokeApiClient(database.db, clientIdOrKey);
await database.close();
switch (revocation.outcome) {
  case 'revoked':
    process.stdout.write(`${JSON.stringify({ clientId: revocation.clientId, revoked: true })}\n`);
    break;
  case 'already_revoked':
    process.stdout.write(
      `${JSON.stringify({ clientId: revocation.clientId, revoked: true, revokedAt: revocation.revokedAt.toISOString() })}\n`,
    );
    break;
  case 'not_found':
    process.stderr.write('no client has that id or API key (the default client has no key to revoke)\n');
    process.exit(1);
}
