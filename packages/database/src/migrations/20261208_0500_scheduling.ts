import { sql, type Kysely } from 'kysely';

/**
 * Delayed and recurring jobs. A delayed job is its own record: status `scheduled` with its
 * `run_at`, found when due through a partial index that holds only scheduled jobs (so the
 * promoter's frequent look costs an index probe on a tiny index, however large `jobs` grows).
 * A schedule is a row with the next tick to act on; its ticks' jobs carry a customId naming the
 * tick, so the unique (client_id, custom_id) index makes each tick one job across replicas.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('run_at', 'timestamptz').execute();
  await sql`create index jobs_scheduled_run_at_idx on jobs (run_at) where status = 'scheduled'`.execute(db);

  await db.schema
    .createTable('schedules')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().references('api_clients.id'))
    .addColumn('custom_id', 'text')
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('cron', 'text', (c) => c.notNull())
    .addColumn('timezone', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('input', 'jsonb', (c) => c.notNull())
    .addColumn('callback_url', 'text')
    .addColumn('job_request_hash', 'text', (c) => c.notNull())
    .addColumn('overlap', 'text', (c) => c.notNull())
    .addColumn('catch_up', 'text', (c) => c.notNull())
    .addColumn('paused', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('next_run_at', 'timestamptz')
    .addColumn('last_tick_at', 'timestamptz')
    .addColumn('last_job_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index schedules_client_custom_id_idx on schedules (client_id, custom_id) where custom_id is not null`.execute(
    db,
  );
  await db.schema
    .createIndex('schedules_client_created_idx')
    .on('schedules')
    .columns(['client_id', 'created_at desc', 'id desc'])
    .execute();
  // The scheduler's look for due schedules: active ones only.
  await sql`create index schedules_due_idx on schedules (next_run_at) where not paused and next_run_at is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('schedules').execute();
  await sql`drop index jobs_scheduled_run_at_idx`.execute(db);
  await db.schema.alterTable('jobs').dropColumn('run_at').execute();
}
