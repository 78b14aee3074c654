import { sql, type Kysely } from 'kysely';

/**
 * Retention prunes the event and attempt logs by age. BRIN indexes, not B-trees: these tables
 * are append-mostly in time order, so a BRIN index (a few pages for millions of rows, and next to
 * nothing to maintain on insert) finds the old rows, while a B-tree would add a write to every
 * job event and webhook attempt on the hot paths.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index job_events_occurred_brin on job_events using brin (occurred_at)`.execute(db);
  await sql`create index webhook_deliveries_created_brin on webhook_deliveries using brin (created_at)`.execute(
    db,
  );
  await sql`create index webhook_attempts_started_brin on webhook_attempts using brin (started_at)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index webhook_attempts_started_brin`.execute(db);
  await sql`drop index webhook_deliveries_created_brin`.execute(db);
  await sql`drop index job_events_occurred_brin`.execute(db);
}
