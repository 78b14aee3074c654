import { sql, type Kysely } from 'kysely';

/**
 * Per-client limits shared by producer replicas: each rate window's tokens handed out so far
 * (one row per client, limit and window, pruned by the cleanup), and a partial index of the
 * jobs still in flight per client, which the cap on them counts (only unfinished jobs are in it).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('rate_limit_windows')
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('bucket', 'text', (c) => c.notNull())
    .addColumn('window_start', 'timestamptz', (c) => c.notNull())
    .addColumn('used', 'integer', (c) => c.notNull())
    .addColumn('last_grant', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limit_windows_pkey', ['client_id', 'bucket', 'window_start'])
    .execute();
  await sql`create index jobs_client_unfinished_idx on jobs (client_id) where status in ('scheduled', 'queued', 'running')`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index jobs_client_unfinished_idx`.execute(db);
  await db.schema.dropTable('rate_limit_windows').execute();
}
