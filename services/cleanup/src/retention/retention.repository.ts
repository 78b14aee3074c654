import { sql, type Database, type Kysely } from '@conveyor/database';
import { jobDataOf } from '@conveyor/jobs';
import type { ExpiringJob } from '../result-expiry/expiring-result.repository.js';

/**
 * One batch of each kind of pruning. Every batch is its own short statement over at most `limit`
 * rows found through an index on the time that ages them (a B-tree on jobs.created_at and
 * idempotency_keys.expires_at; BRIN on the append-mostly event and attempt logs), locking only
 * those rows (SKIP LOCKED, so replicas split the work and a row being written is left for the
 * next pass). Nothing takes a table lock; the hot paths never wait on a prune.
 */

const olderThan = (ms: number) => sql<Date>`now() - make_interval(secs => ${ms / 1000})`;

/**
 * Finished jobs created and finished before the cutoff. Only image jobs' data is parsed (they own
 * blobs); a row that does not parse is still deleted and reported, never a pruning stuck on it.
 */
export async function listJobsToDelete(
  db: Kysely<Database>,
  retentionMs: number,
  limit: number,
): Promise<{ id: string; data: () => ExpiringJob | undefined }[]> {
  const cutoff = olderThan(retentionMs);
  const rows = await db
    .selectFrom('jobs')
    .select(['id', 'kind', 'input', 'result'])
    .where('created_at', '<', cutoff)
    .where('finished_at', '<', cutoff)
    .where('status', 'in', ['succeeded', 'failed', 'cancelled'])
    .orderBy('created_at')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    data: () => (row.kind === 'image-resize' ? { id: row.id, ...jobDataOf(row) } : undefined),
  }));
}

/** Deletes the jobs (their events, webhook deliveries and attempts go by cascade); returns how many. */
export async function deleteJobs(db: Kysely<Database>, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db
    .deleteFrom('jobs')
    .where('id', 'in', (eb) =>
      eb.selectFrom('jobs').select('id').where('id', 'in', ids).forUpdate().skipLocked(),
    )
    // A job retried meanwhile (operator retry) is no longer finished: it stays.
    .where('status', 'in', ['succeeded', 'failed', 'cancelled'])
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The tables pruned by age alone, and what makes one of their rows old enough to go. */
type AgedTable =
  'job_events' | 'webhook_deliveries' | 'webhook_attempts' | 'rate_limit_windows' | 'idempotency_keys';

/**
 * Deletes up to `limit` rows of `table` matching `old`, as one statement: found (through the
 * index on the column `old` reads) and locked SKIP LOCKED in a subquery, deleted by ctid.
 */
async function deleteBatch(
  db: Kysely<Database>,
  table: AgedTable,
  old: ReturnType<typeof sql>,
  limit: number,
): Promise<number> {
  const { numAffectedRows } = await sql`
    delete from ${sql.table(table)} where ctid = any(array(
      select ctid from ${sql.table(table)} where ${old} limit ${limit} for update skip locked))`.execute(db);
  return Number(numAffectedRows ?? 0);
}

/** Events older than the cutoff, of jobs kept longer than their history. */
export function deleteOldJobEvents(
  db: Kysely<Database>,
  retentionMs: number,
  limit: number,
): Promise<number> {
  return deleteBatch(db, 'job_events', sql`occurred_at < ${olderThan(retentionMs)}`, limit);
}

/** Settled webhook deliveries created before the cutoff; their attempts go by cascade. */
export function deleteOldDeliveries(
  db: Kysely<Database>,
  retentionMs: number,
  limit: number,
): Promise<number> {
  return deleteBatch(
    db,
    'webhook_deliveries',
    sql`created_at < ${olderThan(retentionMs)} and status in ('delivered', 'failed', 'superseded', 'gone')`,
    limit,
  );
}

/** Attempts older than the cutoff, of deliveries kept longer than their attempt log. */
export function deleteOldAttempts(db: Kysely<Database>, retentionMs: number, limit: number): Promise<number> {
  return deleteBatch(db, 'webhook_attempts', sql`started_at < ${olderThan(retentionMs)}`, limit);
}

/** Rate-limit windows that ended over an hour ago (a window is seconds long). */
export function deleteOldRateWindows(db: Kysely<Database>, limit: number): Promise<number> {
  return deleteBatch(db, 'rate_limit_windows', sql`window_start < now() - interval '1 hour'`, limit);
}

/** Idempotency keys past their expiry. */
export function deleteExpiredIdempotencyKeys(db: Kysely<Database>, limit: number): Promise<number> {
  return deleteBatch(db, 'idempotency_keys', sql`expires_at < now()`, limit);
}
