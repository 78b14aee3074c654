/** `pnpm client:create <name>`: registers an API client and prints its key (shown once). */
import { createApiClient } from '../auth/api-client.repository.js';
import { runClientCommand } from './producer-command.js';

await runClientCommand('client:create', 'name', async (db, name) => {
  const client = await createApiClient(db, name);
  process.stdout.write(
    `${JSON.stringify({ clientId: client.id, apiKey: client.apiKey, webhookSecret: client.webhookSecret })}\n`,
  );
});
