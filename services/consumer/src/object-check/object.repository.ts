import { sql, type Database, type Kysely, type Transaction } from '@conveyor/database';
import type { LastSeen } from './last-seen.js';

/**
 * Upserts last_seen, taking the greater of the stored and the new time, so a redelivered or
 * reordered message can never move it backwards. Rows must be unique per object.
 */
export async function upsertLastSeen(
  db: Kysely<Database> | Transaction<Database>,
  rows: readonly LastSeen[],
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('objects')
    .values(rows.map((r) => ({ id: r.objectId, last_seen: r.lastSeen })))
    .onConflict((oc) =>
      oc.column('id').doUpdateSet({ last_seen: sql`greatest(objects.last_seen, excluded.last_seen)` }),
    )
    .execute();
}
