import { sql, type Kysely } from 'kysely';

/**
 * The operator API's tables and columns:
 * - api_clients.role: an `operator` key sees every client's jobs and the operator routes.
 * - job_events.attempt, error_code, error_message: a job's history tells which attempt a change
 *   belongs to and why it failed; written by the insert the job store already makes per change.
 * - dead_letters: messages moved out of the dead-letter queue, kept until redriven or purged.
 *   message_id is unique so a redelivered dead letter is stored once.
 * - paused_kinds: the work a worker host must not consume while its row exists.
 * - jobs_created_at_idx: the overview's time series reads a window of jobs by created_at, a
 *   column never updated after the insert, so the index keeps the jobs' updates HOT (an index
 *   on updated_at or finished_at would not). Its cost: one more index entry per job insert
 *   (about 40 bytes a row) and its share of the inserts' WAL.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('api_clients')
    .addColumn('role', 'text', (c) =>
      c
        .notNull()
        .defaultTo('client')
        .check(sql`role in ('client', 'operator')`),
    )
    .execute();
  await db.schema
    .alterTable('job_events')
    .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .execute();
  await db.schema
    .createTable('dead_letters')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('message_id', 'text', (c) => c.notNull().unique())
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('job_id', 'uuid')
    .addColumn('exchange', 'text', (c) => c.notNull())
    .addColumn('routing_key', 'text', (c) => c.notNull())
    .addColumn('reason_code', 'text', (c) => c.notNull())
    .addColumn('reason_message', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('headers', 'jsonb', (c) => c.notNull())
    .addColumn('dead_lettered_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index dead_letters_listing_idx on dead_letters (dead_lettered_at desc, id desc)`.execute(
    db,
  );
  await sql`create index dead_letters_kind_idx on dead_letters (kind, dead_lettered_at desc, id desc)`.execute(
    db,
  );
  await db.schema
    .createTable('paused_kinds')
    .addColumn('kind', 'text', (c) => c.primaryKey())
    .addColumn('paused_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create index jobs_created_at_idx on jobs (created_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index jobs_created_at_idx`.execute(db);
  await db.schema.dropTable('paused_kinds').execute();
  await db.schema.dropTable('dead_letters').execute();
  await db.schema
    .alterTable('job_events')
    .dropColumn('attempt')
    .dropColumn('error_code')
    .dropColumn('error_message')
    .execute();
  await db.schema.alterTable('api_clients').dropColumn('role').execute();
}
