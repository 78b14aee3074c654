import { createHash, randomBytes } from 'node:crypto';
import type { Database, Kysely } from '@conveyor/database';

export const DEFAULT_CLIENT_ID = 'default';

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

/** Only the key's hash is stored; the key itself is shown once, at creation. */
export async function createApiClient(db: Kysely<Database>, name: string): Promise<{ id: string; apiKey: string }> {
  const id = `cl_${randomBytes(8).toString('hex')}`;
  const apiKey = `cvk_${randomBytes(32).toString('base64url')}`;
  await db.insertInto('api_clients').values({ id, name, key_hash: hashApiKey(apiKey) }).execute();
  return { id, apiKey };
}

export async function findClientIdByKey(db: Kysely<Database>, apiKey: string): Promise<string | undefined> {
  const row = await db.selectFrom('api_clients').select('id').where('key_hash', '=', hashApiKey(apiKey)).executeTakeFirst();
  return row?.id;
}
