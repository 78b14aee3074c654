import { JobStatus, type TopologyNames } from '@conveyor/contracts';
import { insertOutboxMessages, sql, type Database, type Kysely } from '@conveyor/database';
import { commitJobUpdates, type JobEventPublishing } from '../job-change.js';
import { jobRunMessage } from '../job-messages.js';
import { toJobRecord } from '../job-record.js';
import type { Committed } from '../job-store.js';

/** The statuses a retry reopens. */
export const RETRYABLE: readonly JobStatus[] = ['failed', 'cancelled'];

export type RetryOutcome =
  | { outcome: 'retried'; committed: Committed }
  | { outcome: 'not_retryable'; status: JobStatus }
  | { outcome: 'not_found' };

/**
 * A new attempt of a failed or cancelled job, same id: in one transaction its end is cleared
 * (result, finish and expiry times, cancel flag, progress), the change to `queued` is recorded
 * like any other (event row, event message where it has a reader), and its work message goes
 * to the outbox, so it is sent even if this process dies after the commit. The reopening is its
 * own guarded change (`reopenFrom`), not a transition of the table, which keeps failed and
 * cancelled final for every other writer. `clientId` limits it to that client's jobs.
 */
export async function retryJob(
  db: Kysely<Database>,
  names: TopologyNames,
  events: JobEventPublishing,
  job: { id: string; clientId: string | undefined },
  correlationId: string,
): Promise<RetryOutcome> {
  return db.transaction().execute(async (trx): Promise<RetryOutcome> => {
    let current = trx.selectFrom('jobs').select(['id', 'status', 'kind']).where('id', '=', job.id);
    if (job.clientId !== undefined) current = current.where('client_id', '=', job.clientId);
    const row = await current.forUpdate().executeTakeFirst();
    if (!row) return { outcome: 'not_found' };
    const status = JobStatus.parse(row.status);
    if (!RETRYABLE.includes(status)) return { outcome: 'not_retryable', status };
    await trx
      .updateTable('jobs')
      .set({
        result: null,
        finished_at: null,
        expires_at: null,
        expired: false,
        cancel_requested: false,
        progress: 0,
        progress_message: null,
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', job.id)
      .execute();
    const [changed] = await commitJobUpdates(
      trx,
      names,
      [{ id: job.id, to: 'queued', patch: {}, correlationId, reopenFrom: [...RETRYABLE] }],
      events,
    );
    if (!changed) throw new Error(`job ${job.id} was locked as ${status} but its reopening hit no row`);
    const run = await insertOutboxMessages(trx, [
      jobRunMessage(names, { id: row.id, kind: row.kind }, correlationId),
    ]);
    return {
      outcome: 'retried',
      committed: { job: toJobRecord(changed.row), outbox: [...changed.outbox, ...run] },
    };
  });
}
