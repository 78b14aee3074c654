import { sql, type Kysely } from 'kysely';

/**
 * The registry of job kinds that worker hosts bring (name, version, schemas, policy), and the
 * hosts themselves with their heartbeat: the producer validates submissions against it, and an
 * operator sees which workers are alive and what they serve.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('job_kinds')
    .addColumn('kind', 'text', (c) => c.primaryKey())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('input_schema', 'jsonb', (c) => c.notNull())
    .addColumn('result_schema', 'jsonb')
    .addColumn('schema_hash', 'text', (c) => c.notNull())
    .addColumn('concurrency', 'integer', (c) => c.notNull())
    .addColumn('timeout_ms', 'integer')
    .addColumn('retry', 'jsonb', (c) => c.notNull())
    .addColumn('isolation', 'text', (c) => c.notNull())
    .addColumn('registered_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('worker_hosts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('hostname', 'text', (c) => c.notNull())
    .addColumn('pid', 'integer', (c) => c.notNull())
    .addColumn('kinds', sql`text[]`, (c) => c.notNull())
    .addColumn('in_flight', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_heartbeat_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('worker_hosts').execute();
  await db.schema.dropTable('job_kinds').execute();
}
