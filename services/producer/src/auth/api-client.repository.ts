import { createHash, randomBytes } from 'node:crypto';
import { ApiRole } from '@conveyor/contracts';
import { sql, type Database, type Kysely } from '@conveyor/database';
import { generateWebhookSecret } from '@conveyor/webhooks';
import { z } from 'zod';

export const DEFAULT_CLIENT_ID = 'default';

export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

/**
 * Registers a client with its API key and its webhook signing secret. Only the key's hash is
 * stored (the key is shown once); the secret must be stored as is, since it signs.
 */
export async function createApiClient(
  db: Kysely<Database>,
  name: string,
  role: ApiRole = 'client',
): Promise<{ id: string; apiKey: string; webhookSecret: string; role: ApiRole }> {
  const id = `cl_${randomBytes(8).toString('hex')}`;
  const apiKey = `cvk_${randomBytes(32).toString('base64url')}`;
  const webhookSecret = generateWebhookSecret();
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('api_clients')
      .values({ id, name, key_hash: hashApiKey(apiKey), role })
      .execute();
    await trx
      .insertInto('webhook_secrets')
      .values({ client_id: id, secret: webhookSecret, expires_at: null })
      .execute();
  });
  return { id, apiKey, webhookSecret, role };
}

/** Who a request acts as: its client, and whether that client's key is an operator's. */
export interface ApiPrincipal {
  clientId: string;
  role: ApiRole;
}

export async function findClientByKey(
  db: Kysely<Database>,
  apiKey: string,
): Promise<ApiPrincipal | undefined> {
  const row = await db
    .selectFrom('api_clients')
    .select(['id', 'role'])
    .where('key_hash', '=', hashApiKey(apiKey))
    .executeTakeFirst();
  return row && { clientId: row.id, role: ApiRole.parse(row.role) };
}

/** The PostgreSQL channel revocations are announced on, to every producer of every schema. */
export const API_KEY_REVOKED_CHANNEL = 'conveyor_api_key_revoked';

export type RevokeOutcome =
  | { outcome: 'revoked'; clientId: string }
  | { outcome: 'already_revoked'; clientId: string; revokedAt: Date }
  | { outcome: 'not_found' };

/**
 * Revokes the API key of the client with id (or key) `clientIdOrKey`: its hash is cleared, so no
 * lookup matches it any more, and every producer is told on API_KEY_REVOKED_CHANNEL to forget it
 * at once. The NOTIFY is part of the transaction: PostgreSQL delivers it when (and only if) the
 * revocation commits, so no producer drops its cache before the key is really gone.
 */
export async function revokeApiClient(db: Kysely<Database>, clientIdOrKey: string): Promise<RevokeOutcome> {
  return db.transaction().execute(async (trx) => {
    const client = await trx
      .selectFrom('api_clients')
      .select(['id', 'revoked_at'])
      .where((eb) => eb.or([eb('id', '=', clientIdOrKey), eb('key_hash', '=', hashApiKey(clientIdOrKey))]))
      .where('id', '<>', DEFAULT_CLIENT_ID)
      .forUpdate()
      .executeTakeFirst();
    if (!client) return { outcome: 'not_found' };
    if (client.revoked_at)
      return { outcome: 'already_revoked', clientId: client.id, revokedAt: client.revoked_at };
    await trx
      .updateTable('api_clients')
      .set({ key_hash: null, revoked_at: sql<Date>`now()` })
      .where('id', '=', client.id)
      .execute();
    // The schema goes in the payload: producers of other stacks (or tests) on the same database ignore it.
    await sql`select pg_notify(${API_KEY_REVOKED_CHANNEL}, json_build_object('schema', current_schema(), 'clientId', ${client.id}::text)::text)`.execute(
      trx,
    );
    return { outcome: 'revoked', clientId: client.id };
  });
}

const RevocationNotice = z.object({ schema: z.string(), clientId: z.string() });

/** The client id a revocation notification names, when it is about `schema`; undefined otherwise. */
export function revokedClientIdOf(payload: string, schema: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const notice = RevocationNotice.safeParse(parsed);
  return notice.success && notice.data.schema === schema ? notice.data.clientId : undefined;
}
