import { sql, type Kysely } from 'kysely';

/**
 * The job row as the record of a work message still to publish, instead of an outbox row
 * inserted and deleted per job: a new job names the producer (dispatcher) that will publish
 * its message, and each dispatcher keeps a row with its lease and the time before which every
 * job it committed has been confirmed by the broker. When a lease runs out (the producer died),
 * any other process re-sends the dead dispatcher's queued jobs from that time on.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('job_dispatchers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('confirmed_before', 'timestamptz', (c) => c.notNull())
    .addColumn('lease_until', 'timestamptz', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.alterTable('jobs').addColumn('dispatcher', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('jobs').dropColumn('dispatcher').execute();
  await db.schema.dropTable('job_dispatchers').execute();
}
