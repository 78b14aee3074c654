/** `pnpm client:create <name> [--role operator]`: registers an API client and prints its key (shown once). */
import { createApiClient } from '../auth/api-client.repository.js';
import { CREATE_CLIENT_USAGE, parseCreateClientArgs } from './create-client-args.js';
import { withMigratedDatabase } from './producer-command.js';

const args = parseCreateClientArgs(process.argv.slice(2));
if ('error' in args) {
  process.stderr.write(`${args.error}\n${CREATE_CLIENT_USAGE}\n`);
  process.exit(2);
}
await withMigratedDatabase(
  'client:create',
  async (db) => {
    const client = await createApiClient(db, args.name, args.role);
    process.stdout.write(
      `${JSON.stringify({ clientId: client.id, apiKey: client.apiKey, webhookSecret: client.webhookSecret, role: client.role })}\n`,
    );
  },
  { level: 'warn' },
);
