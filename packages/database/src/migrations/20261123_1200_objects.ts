import type { Kysely } from 'kysely';

/** Online objects and when they were last seen; the index makes the TTL delete a range scan. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('objects')
    .addColumn('id', 'bigint', (c) => c.primaryKey())
    .addColumn('last_seen', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('objects_last_seen_idx').on('objects').column('last_seen').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('objects').execute();
}
