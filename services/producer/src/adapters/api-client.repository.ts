import { createHash, randomBytes } from 'node:crypto';
import type { Database, Kysely } from '@conveyor/database';
import { generateWebhookSecret } from '@conveyor/jobs';

export const DEFAULT_CLIENT_ID = 'default';

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

/**
 * Registers a client with its API key and its webhook signing secret. Only the key's hash is
 * stored (the key is shown once); the secret must be stored as is, since it signs.
 */
export async function createApiClient(db: Kysely<Database>, name: string): Promise<{ id: string; apiKey: string; webhookSecret: string }> {
  const id = `cl_${randomBytes(8).toString('hex')}`;
  const apiKey = `cvk_${randomBytes(32).toString('base64url')}`;
  const webhookSecret = generateWebhookSecret();
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('api_clients').values({ id, name, key_hash: hashApiKey(apiKey) }).execute();
    await trx.insertInto('webhook_secrets').values({ client_id: id, secret: webhookSecret, expires_at: null }).execute();
  });
  return { id, apiKey, webhookSecret };
}

export async function findClientIdByKey(db: Kysely<Database>, apiKey: string): Promise<string | undefined> {
  const row = await db.selectFrom('api_clients').select('id').where('key_hash', '=', hashApiKey(apiKey)).executeTakeFirst();
  return row?.id;
}
