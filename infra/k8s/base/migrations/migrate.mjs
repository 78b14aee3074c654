// Applies Conveyor's database migrations and exits: 0 when the schema is at the latest
// version, 1 otherwise. What every service does at start, alone, for a Kubernetes Job (or an
// operator) to run before a release. It runs inside a service's deployment (the producer image's
// /app, or services/producer in the workspace after `pnpm build`) and takes the packages from
// there, so it needs no image of its own:
//   (cd services/producer && node ../../infra/k8s/base/migrations/migrate.mjs)
import { createRequire } from 'node:module';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';

const fromService = createRequire(join(process.cwd(), 'package.json'));
const load = (name) => import(pathToFileURL(fromService.resolve(name)).href);
const { createDatabase, migrateToLatest } = await load('@conveyor/database');
const { commonEnvShape, createLogger, loadConfigOrExit, withDotenv } = await load('@conveyor/platform');
const { z } = await load('zod');

const MigrateEnv = z.object({
  LOG_LEVEL: commonEnvShape.LOG_LEVEL,
  LOG_FORMAT: commonEnvShape.LOG_FORMAT,
  DATABASE_URL: commonEnvShape.DATABASE_URL,
  DATABASE_SCHEMA: commonEnvShape.DATABASE_SCHEMA,
});
const config = loadConfigOrExit('migrate', MigrateEnv, withDotenv(process.env));
const log = createLogger({ service: 'migrate', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
const database = createDatabase({
  url: config.DATABASE_URL,
  schema: config.DATABASE_SCHEMA,
  poolMax: 1,
  log,
});
try {
  await migrateToLatest(database.db, config.DATABASE_SCHEMA, log);
  log.info('schema at the latest version', { schema: config.DATABASE_SCHEMA });
} catch (error) {
  log.error('migrations failed', { error });
  process.exitCode = 1;
} finally {
  await database.close();
}
