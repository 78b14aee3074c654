import { createDatabase, migrateToLatest, type Database, type Kysely } from '@conveyor/database';
import { createLogger, loadConfigOrExit, withDotenv, type Logger } from '@conveyor/platform';
import { ProducerEnv } from '../config.js';

/**
 * What the producer's one-off commands share: its configuration, and its database migrated to
 * the latest version, closed once `run` settles. Returns what `run` returns. Logs go to the
 * configured LOG_FORMAT at LOG_LEVEL, or, for a command a person types, as `terminal` says.
 */
export async function withMigratedDatabase<T>(
  command: string,
  run: (db: Kysely<Database>, log: Logger) => Promise<T>,
  terminal?: { level: 'warn' },
): Promise<T> {
  const config = loadConfigOrExit(command, ProducerEnv, withDotenv(process.env));
  const log = terminal
    ? createLogger({ service: command, level: terminal.level, format: 'pretty' })
    : createLogger({ service: command, level: config.LOG_LEVEL, format: config.LOG_FORMAT });
  const database = createDatabase({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    poolMax: 1,
    log,
  });
  try {
    await migrateToLatest(database.db, config.DATABASE_SCHEMA, log);
    return await run(database.db, log);
  } finally {
    await database.close();
  }
}

/**
 * The `pnpm client:*` commands: their one argument (usage and exit 2 without it), then `run` on
 * the migrated database.
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
  return withMigratedDatabase(command, (db) => run(db, argument), { level: 'warn' });
}
