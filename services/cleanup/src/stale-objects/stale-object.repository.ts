import { sql, type Database, type Kysely } from '@conveyor/database';

/**
 * Deletes up to `limit` objects last seen before now() - ttl (the database's clock, so every
 * replica agrees). SKIP LOCKED lets replicas split the work instead of queueing on each other,
 * and a row being refreshed right now is skipped rather than deleted under the writer.
 */
export async function deleteStaleObjects(
  db: Kysely<Database>,
  ttlMs: number,
  limit: number,
): Promise<number> {
  const cutoff = sql<Date>`now() - make_interval(secs => ${ttlMs / 1000})`;
  const result = await db
    .deleteFrom('objects')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('objects')
        .select('id')
        .where('last_seen', '<', cutoff)
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .where('last_seen', '<', cutoff)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
