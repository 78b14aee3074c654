import { sql, type Kysely } from 'kysely';

/**
 * record_webhook_events is planned at every call: plpgsql would otherwise keep a generic plan made
 * while the deliveries table was small (seq scans per input row) and keep it as the table grows.
 * The open deliveries of a job (pending or sending: what ordering and leasing look for) get an
 * index of their own, small whatever the table's size, instead of intersecting the job index with
 * the index of every due delivery for each row.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter function record_webhook_events(text[], uuid[], text[], uuid[], int[], text[], text[], bool[], bool[], float8, text, text) set plan_cache_mode = force_custom_plan`.execute(
    db,
  );
  await sql`create index webhook_deliveries_open_idx on webhook_deliveries (job_id, sequence) where status in ('pending', 'sending')`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index webhook_deliveries_open_idx`.execute(db);
  await sql`alter function record_webhook_events(text[], uuid[], text[], uuid[], int[], text[], text[], bool[], bool[], float8, text, text) reset plan_cache_mode`.execute(
    db,
  );
}
