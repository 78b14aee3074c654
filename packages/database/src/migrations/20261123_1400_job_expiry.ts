import { sql, type Kysely } from 'kysely';

/** Results are dropped after their retention; the index finds the ones due without a scan. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('jobs')
    .addColumn('expired', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await sql`create index jobs_expiry_idx on jobs (expires_at) where not expired and expires_at is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('jobs').dropColumn('expired').execute();
}
