import type { TopologyNames } from '@conveyor/contracts';
import { insertOutboxMessages, sql, type Database, type Kysely } from '@conveyor/database';
import { jobRunMessage } from '../job-messages.js';

/** Room for the database clock stepping back between a dispatcher's readings and its inserts. */
const CLOCK_MARGIN_SECONDS = 1;
/** Dead dispatchers handled per transaction. */
const DISPATCHERS_AT_ONCE = 10;

/**
 * For each dispatcher whose lease has run out (its producer died or hung): writes the work
 * messages of its queued jobs created from its watermark on to the outbox, and removes it, in
 * one transaction. Dispatchers locked by a commit under way are left for the next pass (SKIP
 * LOCKED), so replicas never recover the same one twice. A job found here may also have been
 * published before the producer died: a duplicate message, which the job runner tolerates.
 */
export async function recoverExpiredDispatchers(
  db: Kysely<Database>,
  names: TopologyNames,
): Promise<{ dispatchers: number; jobs: number }> {
  return db.transaction().execute(async (trx) => {
    const expired = await trx
      .selectFrom('job_dispatchers')
      .select(['id', 'confirmed_before'])
      .where('lease_until', '<', sql<Date>`now()`)
      .limit(DISPATCHERS_AT_ONCE)
      .forUpdate()
      .skipLocked()
      .execute();
    let jobs = 0;
    for (const dispatcher of expired) {
      const from = sql<Date>`${dispatcher.confirmed_before}::timestamptz - make_interval(secs => ${CLOCK_MARGIN_SECONDS})`;
      // updated_at >= created_at, so the range on it lets the unfinished-jobs index find them.
      const queued = await trx
        .selectFrom('jobs')
        .select(['id', 'kind'])
        .where('status', '=', 'queued')
        .where('updated_at', '>=', from)
        .where('created_at', '>=', from)
        .where('dispatcher', '=', dispatcher.id)
        .execute();
      await insertOutboxMessages(
        trx,
        queued.map((job) => jobRunMessage(names, job, `dispatch-recovery-${dispatcher.id}`)),
      );
      await trx.deleteFrom('job_dispatchers').where('id', '=', dispatcher.id).execute();
      jobs += queued.length;
    }
    return { dispatchers: expired.length, jobs };
  });
}
