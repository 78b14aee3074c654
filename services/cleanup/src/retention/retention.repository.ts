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

/** Events older than the cutoff, of jobs kept longer than their history. */
export async function deleteOldJobEvents(
  db: Kysely<Database>,
  retentionMs: number,
  limit: number,
): Promise<number> {
  const { numAffectedRows } = await sql`
    delete from job_events where ctid = any(array(
      select ctid from job_events where occurred_at < ${olderThan(retentionMs)} limit ${limit} for update skip locked))`.execute(
    db,
  );
  return Number(numAffectedRows ?? 0);
}

/** Settled webhook deliveries created before the cutoff; their attempts go by cascade. */
export async function deleteOldDeliveries(
  db: Kysely<Database>,
  retentionMs: number,
  limit: number,
): Promise<number> {
  const { numAffectedRows } = await sql`
    delete from webhook_deliveries where ctid = any(array(
      select ctid from webhook_deliveries
      where created_at < ${olderThan(retentionMs)} and status in ('delivered', 'failed', 'superseded', 'gone')
      limit ${limit} for update skip locked))`.execute(db);
  return Number(numAffectedRows ?? 0);
}

/** Attempts older than the cutoff, of deliveries kept longer than their attempt log. */
export async function deleteOldAttempts(
  db: Kysely<Database>,
  retentionMs: number,
  limit: number,
): Promise<number> {
  const { numAffectedRows } = await sql`
    delete from webhook_attempts where ctid = any(array(
      select ctid from webhook_attempts where started_at < ${olderThan(retentionMs)} limit ${limit} for update skip locked))`.execute(
    db,
  );
  return Number(numAffectedRows ?? 0);
}

/** Rate-limit windows that ended over an hour ago (a window is seconds long). */
export async function deleteOldRateWindows(db: Kysely<Database>, limit: number): Promise<number> {
  const { numAffectedRows } = await sql`
    delete from rate_limit_windows where ctid = any(array(
      select ctid from rate_limit_windows where window_start < now() - interval '1 hour' limit ${limit} for update skip locked))`.execute(
    db,
  );
  return Number(numAffectedRows ?? 0);
}

/** Idempotency keys past their expiry. */
export async function deleteExpiredIdempotencyKeys(db: Kysely<Database>, limit: number): Promise<number> {
  const { numAffectedRows } = await sql`
    delete from idempotency_keys where ctid = any(array(
      select ctid from idempotency_keys where expires_at < now() limit ${limit} for update skip locked))`.execute(
    db,
  );
  return Number(numAffectedRows ?? 0);
}
