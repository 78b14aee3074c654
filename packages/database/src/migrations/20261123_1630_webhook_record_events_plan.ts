import { sql, type Kysely } from 'kysely';

/**
 * record_webhook_events may keep its generic plan again (planning the statement at every call cost
 * about as much as running it), but that plan must not depend on how big the deliveries table was
 * when it was made: with sequential scans ruled out the planner picks the per-row index lookups,
 * right for a batch of a few dozen rows against a table of any size.
 */
const SIGNATURE = sql`record_webhook_events(text[], uuid[], text[], uuid[], int[], text[], text[], bool[], bool[], float8, text, text)`;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter function ${SIGNATURE} reset plan_cache_mode`.execute(db);
  await sql`alter function ${SIGNATURE} set enable_seqscan = off`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter function ${SIGNATURE} reset enable_seqscan`.execute(db);
  await sql`alter function ${SIGNATURE} set plan_cache_mode = force_custom_plan`.execute(db);
}
