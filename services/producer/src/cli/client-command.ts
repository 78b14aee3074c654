import { createDatabase, migrateToLatest, type Database, type Kysely } from '@conveyor/database';
import { createLogger, loadConfigOrExit, withDotenv } from '@conveyor/platform';
import { ProducerEnv } from '../config.js';

/**
 * What the `pnpm client:*` commands share: their one argument (usage and exit 2 without it), the
 * producer's configuration, and its database migrated to the latest version, closed once `run`
 * settles. Returns what `run` returns.
 */
export async function runClientCommand<T>(
  command: string,
  argumentName: string,
  run: (db: Kysely<Database>, argument: string) => Promise<T>,
): Promise<T> {
  const argument = process.argv[2];
  if (!argument) {
    process.stderr.write(`usage: pnpm ${command} <${argumentName}>\n`);
    process.exit(2);
  }
  const config = loadConfigOrExit(command, ProducerEnv, withDotenv(process.env));
  const log = createLogger({ service: command, level: 'warn', format: 'pretty' });
  const database = createDatabase({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    poolMax: 1,
    log,
  });
  try {
    await migrateToLatest(database.db, config.DATABASE_SCHEMA, log);
    return await run(database.db, argument);
  } finally {
    await database.close();
  }
}
