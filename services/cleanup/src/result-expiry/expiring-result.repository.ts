import type { JobData } from '@conveyor/jobs';
import { sql, type Database, type Kysely } from '@conveyor/database';
import { jobDataOf } from '@conveyor/jobs';

/** A job whose result is due to go, its input and result typed per built-in kind. */
export type ExpiringJob = { id: string } & JobData;

/** Finished jobs whose results are past `expires_at` and not yet dropped. */
export async function listExpiringJobs(db: Kysely<Database>, limit: number): Promise<ExpiringJob[]> {
  const rows = await db
    .selectFrom('jobs')
    .select(['id', 'kind', 'input', 'result'])
    .where('expires_at', '<', sql<Date>`now()`)
    .where('expired', '=', false)
    .orderBy('expires_at')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ id: row.id, ...jobDataOf(row) }));
}

/** Drops the results (the jobs themselves stay, marked expired: the API answers 410 for them). */
export async function markJobsExpired(db: Kysely<Database>, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('jobs')
    .set({ result: null, expired: true, updated_at: sql<Date>`now()` })
    .where('id', 'in', ids)
    .execute();
}
