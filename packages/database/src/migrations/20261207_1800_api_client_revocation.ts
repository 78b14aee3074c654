import type { Kysely } from 'kysely';

/**
 * A client's API key can be revoked: its hash is cleared (no lookup can match it again) and
 * revoked_at records when, so an operator can tell a revoked client from the default one, which
 * never had a key. The client and its jobs stay.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_clients').addColumn('revoked_at', 'timestamptz').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_clients').dropColumn('revoked_at').execute();
}
