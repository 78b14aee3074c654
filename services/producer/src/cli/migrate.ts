/**
 * `pnpm migrate`, or `node dist/cli/migrate.js` in the producer's image (the Kubernetes
 * migrations Job): applies the database migrations and exits, 0 once the schema is at the latest
 * version, 1 if a migration failed. Every service also migrates at start, under an advisory lock,
 * so this may run beside them; it gates a release on its migrations.
 */
import { errorMessage } from '@conveyor/platform';
import { withMigratedDatabase } from './producer-command.js';

try {
  await withMigratedDatabase('migrate', async (_db, log) => {
    log.info('schema at the latest version');
  });
} catch (error) {
  process.stderr.write(`migrate: ${errorMessage(error)}\n`);
  process.exitCode = 1;
}
