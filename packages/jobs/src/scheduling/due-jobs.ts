import type { TopologyNames } from '@conveyor/contracts';
import {
  insertOutboxMessages,
  sql,
  type Database,
  type Kysely,
  type OutboxMessage,
} from '@conveyor/database';
import { commitJobUpdates, type JobEventPublishing } from '../job-change.js';
import { jobRunMessage } from '../job-messages.js';

export interface PromotedJobs {
  /** Jobs moved from scheduled to queued. */
  count: number;
  /** Their work messages and `queued` events, committed in the outbox: send them now. */
  outbox: OutboxMessage[];
  /** How late the latest of them was promoted (database clock), ms; 0 when none. */
  maxLatenessMs: number;
}

/**
 * Moves up to `limit` scheduled jobs whose run_at has come to `queued`, in one transaction: the
 * rows are claimed FOR UPDATE SKIP LOCKED (so replicas running this at once take disjoint
 * batches and never promote a job twice), each change goes through the job store's own update
 * (transition guard, sequence, job_events row, event message where it has a reader), and each
 * job's work message is written to the outbox with it. Nothing is published that did not commit;
 * a crash before the caller sends the outbox leaves the relay to do it.
 */
export async function promoteDueJobs(
  db: Kysely<Database>,
  names: TopologyNames,
  limit: number,
  events: JobEventPublishing,
  correlationId: string,
): Promise<PromotedJobs> {
  // Most looks find nothing due: one index probe then, without a transaction's two extra round trips.
  const anyDue = await db
    .selectFrom('jobs')
    .select('id')
    .where('status', '=', 'scheduled')
    .where('run_at', '<=', sql<Date>`now()`)
    .limit(1)
    .executeTakeFirst();
  if (!anyDue) return { count: 0, outbox: [], maxLatenessMs: 0 };
  return db.transaction().execute(async (trx) => {
    const due = await trx
      .selectFrom('jobs')
      .select([
        'id',
        'kind',
        'trace_parent',
        sql<number>`extract(epoch from now() - run_at) * 1000`.as('late_ms'),
      ])
      .where('status', '=', 'scheduled')
      .where('run_at', '<=', sql<Date>`now()`)
      .orderBy('run_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (due.length === 0) return { count: 0, outbox: [], maxLatenessMs: 0 };
    const changed = await commitJobUpdates(
      trx,
      names,
      due.map((job) => ({ id: job.id, to: 'queued', patch: {}, correlationId })),
      events,
    );
    const runMessages = await insertOutboxMessages(
      trx,
      due.map((job) =>
        jobRunMessage(names, { id: job.id, kind: job.kind, traceParent: job.trace_parent }, correlationId),
      ),
    );
    return {
      count: due.length,
      // The work messages first: they are what the lateness is measured on.
      outbox: [...runMessages, ...changed.flatMap((change) => change?.outbox ?? [])],
      maxLatenessMs: Math.max(...due.map((job) => Number(job.late_ms))),
    };
  });
}
