import { sql, type Kysely } from 'kysely';

/**
 * Clients (API keys), jobs and their event history. A job's `sequence` is the number of its
 * latest event; `(client_id, custom_id)` is unique so a client's own id finds exactly one job.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('api_clients')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // With authentication off, every job belongs to this client.
  await db
    .insertInto('api_clients')
    .values({ id: 'default', name: 'default client (authentication off)', key_hash: null })
    .execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().references('api_clients.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('custom_id', 'text')
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('input', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('progress', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('progress_message', 'text')
    .addColumn('result', 'jsonb')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('callback_url', 'text')
    .addColumn('cancel_requested', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('sequence', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addColumn('expires_at', 'timestamptz')
    .execute();
  await sql`create unique index jobs_client_custom_id_idx on jobs (client_id, custom_id) where custom_id is not null`.execute(
    db,
  );
  await db.schema
    .createIndex('jobs_client_created_idx')
    .on('jobs')
    .columns(['client_id', 'created_at desc', 'id desc'])
    .execute();
  // Small: only unfinished jobs, for stats and for the repair of stuck jobs.
  await sql`create index jobs_unfinished_idx on jobs (status, updated_at) where status in ('queued', 'running')`.execute(
    db,
  );

  await db.schema
    .createTable('job_events')
    .addColumn('job_id', 'uuid', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
    .addColumn('sequence', 'integer', (c) => c.notNull())
    .addColumn('event_id', 'uuid', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('progress', 'double precision', (c) => c.notNull())
    .addColumn('progress_message', 'text')
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('job_events_pkey', ['job_id', 'sequence'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('job_events').execute();
  await db.schema.dropTable('jobs').execute();
  await db.schema.dropTable('api_clients').execute();
}
