import { randomUUID } from 'node:crypto';
import { sourcesOf, type JobError, type JobKind, type JobStats, type JobStatus, type TopologyNames } from '@conveyor/contracts';
import { insertOutboxMessages, sql, type Database, type Kysely, type OutboxMessage, type Transaction } from '@conveyor/database';
import { commitJobChange } from './job-change.js';
import { jobEventMessage, jobEventOf, jobRunMessage } from './job-messages.js';
import { toJobRecord, type JobRecord } from './job-record.js';

type Executor = Kysely<Database> | Transaction<Database>;
/** A further condition on the job row, in SQL. */
type JobGuard = ReturnType<typeof sql<boolean>>;

export interface NewJob {
  clientId: string;
  kind: JobKind;
  customId: string | null;
  requestHash: string;
  input: unknown;
  callbackUrl: string | null;
}

/** What a status change may set besides the status. */
export interface JobPatch {
  progress?: { fraction: number; message: string | null };
  result?: unknown;
  error?: JobError | null;
  incrementAttempts?: boolean;
  startedAt?: Date;
  finishedAt?: Date;
  expiresAt?: Date | null;
}

/** A change that committed, with the outbox messages committed alongside it (send them now). */
export interface Committed {
  job: JobRecord;
  outbox: OutboxMessage[];
}

export interface JobListFilter {
  status?: JobStatus;
  kind?: JobKind;
  customId?: string;
  limit: number;
  /** The id of the last job of the previous page. */
  after?: string;
}

/**
 * The one place job state changes. Every change is one SQL statement (see commitJobChange) that
 * updates the row under the transition table's guard (so a stale writer can never resurrect a
 * finished job), bumps the sequence, records the event, and writes the event (and for a new job
 * its work message) to the outbox, so nothing is published that did not commit and nothing
 * committed goes unpublished.
 */
export class JobStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly names: TopologyNames,
  ) {}

  /** Creates a job, or returns the client's existing job with the same customId (created = false). */
  async create(job: NewJob, correlationId: string): Promise<Committed & { created: boolean }> {
    const id = randomUUID();
    const insert = this.db
      .insertInto('jobs')
      .values({
        id,
        client_id: job.clientId,
        kind: job.kind,
        custom_id: job.customId,
        request_hash: job.requestHash,
        input: JSON.stringify(job.input),
        status: 'queued',
        callback_url: job.callbackUrl,
        sequence: 1,
        progress_message: null,
        result: null,
        error_code: null,
        error_message: null,
        started_at: null,
        finished_at: null,
        expires_at: null,
      })
      .onConflict((oc) => oc.columns(['client_id', 'custom_id']).where('custom_id', 'is not', null).doNothing())
      .returningAll();
    // The work message names only the job's id and kind, both known before the insert.
    const runMessage = jobRunMessage(this.names, { id, kind: job.kind }, correlationId);
    const committed = await commitJobChange(this.db, this.names, { change: insert, status: 'queued', correlationId, alsoSend: [runMessage] });
    if (committed) return { job: toJobRecord(committed.row), outbox: committed.outbox, created: true };
    // Lost the race to (or repeated) an earlier request with this customId: that job stands. The
    // conflicting insert had committed (ON CONFLICT waits for it), so this read sees it.
    const existing = await this.findByCustomId(job.clientId, job.customId!);
    if (!existing) throw new Error(`job with customId ${job.customId} vanished during creation`);
    return { job: existing, outbox: [], created: false };
  }

  async get(id: string, clientId?: string, db: Executor = this.db): Promise<JobRecord | undefined> {
    let query = db.selectFrom('jobs').selectAll().where('id', '=', id);
    if (clientId !== undefined) query = query.where('client_id', '=', clientId);
    const row = await query.executeTakeFirst();
    return row && toJobRecord(row);
  }

  async findByCustomId(clientId: string, customId: string, db: Executor = this.db): Promise<JobRecord | undefined> {
    const row = await db.selectFrom('jobs').selectAll().where('client_id', '=', clientId).where('custom_id', '=', customId).executeTakeFirst();
    return row && toJobRecord(row);
  }

  /** Newest first; `after` continues from the last id of the previous page (keyset pagination). */
  async list(clientId: string, filter: JobListFilter): Promise<JobRecord[]> {
    let query = this.db.selectFrom('jobs').selectAll().where('client_id', '=', clientId);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.kind) query = query.where('kind', '=', filter.kind);
    if (filter.customId) query = query.where('custom_id', '=', filter.customId);
    if (filter.after) {
      const after = filter.after;
      query = query.where(({ eb, refTuple, selectFrom }) =>
        eb(refTuple('created_at', 'id'), '<', selectFrom('jobs as cursor').select(['cursor.created_at', 'cursor.id']).where('cursor.id', '=', after).$asTuple('created_at', 'id')),
      );
    }
    const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(toJobRecord);
  }

  async stats(clientId: string): Promise<JobStats> {
    const rows = await this.db
      .selectFrom('jobs')
      .select(['kind', 'status', (eb) => eb.fn.countAll<string>().as('count')])
      .where('client_id', '=', clientId)
      .groupBy(['kind', 'status'])
      .execute();
    const byStatus: Record<string, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    const byKind: Record<string, Record<string, number>> = {};
    for (const row of rows) {
      const count = Number(row.count);
      byStatus[row.status] = (byStatus[row.status] ?? 0) + count;
      byKind[row.kind] ??= { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
      byKind[row.kind]![row.status] = count;
    }
    return { byStatus, byKind, inProgress: (byStatus.queued ?? 0) + (byStatus.running ?? 0) } as JobStats;
  }

  /** Moves a job to `to` if the transition table allows it from its current status; undefined otherwise. */
  async transition(id: string, to: JobStatus, patch: JobPatch, correlationId: string): Promise<Committed | undefined> {
    return this.changeStatus(id, to, patch, correlationId);
  }

  /**
   * Starts (or restarts) a job in one statement: queued, or running but silent for `staleAfterMs`
   * (its runner died), and not asked to cancel. Undefined when it may not start; read the row to
   * see why (finished, cancel requested, running elsewhere, missing).
   */
  async start(id: string, staleAfterMs: number, correlationId: string): Promise<Committed | undefined> {
    const patch: JobPatch = { incrementAttempts: true, startedAt: new Date(), error: null };
    const startable = sql<boolean>`not cancel_requested and (status = 'queued'
      or (status = 'running' and updated_at < now() - make_interval(secs => ${staleAfterMs / 1000})))`;
    return this.changeStatus(id, 'running', patch, correlationId, startable);
  }

  /**
   * The one statement behind every status change: the UPDATE under the transition table's guard
   * (and `also`, a further condition), the event row and the event's outbox row.
   */
  private async changeStatus(id: string, to: JobStatus, patch: JobPatch, correlationId: string, also?: JobGuard): Promise<Committed | undefined> {
    let update = this.db
      .updateTable('jobs')
      .set((eb) => ({
        status: to,
        sequence: eb('sequence', '+', 1),
        updated_at: sql<Date>`now()`,
        ...(patch.progress && { progress: patch.progress.fraction, progress_message: patch.progress.message }),
        ...(patch.result !== undefined && { result: JSON.stringify(patch.result) }),
        ...(patch.error !== undefined && { error_code: patch.error?.code ?? null, error_message: patch.error?.message ?? null }),
        ...(patch.incrementAttempts && { attempts: eb('attempts', '+', 1) }),
        ...(patch.startedAt && { started_at: patch.startedAt }),
        ...(patch.finishedAt && { finished_at: patch.finishedAt }),
        ...(patch.expiresAt !== undefined && { expires_at: patch.expiresAt }),
      }))
      .where('id', '=', id)
      .where('status', 'in', sourcesOf(to));
    if (also) update = update.where(also);
    const committed = await commitJobChange(this.db, this.names, { change: update.returningAll(), status: to, correlationId });
    return committed && { job: toJobRecord(committed.row), outbox: committed.outbox };
  }

  /**
   * Cancels a job: a queued one at once (it will never run); a running one is flagged and stops
   * at its next progress check. Returns the job as it now stands, or undefined if not the client's.
   */
  async requestCancel(id: string, clientId: string, correlationId: string): Promise<Committed | undefined> {
    const job = await this.get(id, clientId);
    if (!job) return undefined;
    if (job.status === 'queued') {
      const cancelled = await this.transition(id, 'cancelled', { finishedAt: new Date() }, correlationId);
      if (cancelled) return cancelled;
    }
    const flagged = await this.db
      .updateTable('jobs')
      .set({ cancel_requested: true, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('status', 'in', ['queued', 'running'])
      .returningAll()
      .executeTakeFirst();
    return { job: flagged ? toJobRecord(flagged) : ((await this.get(id, clientId)) ?? job), outbox: [] };
  }

  /**
   * Proves a running job is alive (updated_at) and reads its cancel flag in one statement;
   * undefined if the job is no longer running.
   */
  async heartbeat(id: string): Promise<{ cancelRequested: boolean } | undefined> {
    const row = await this.db
      .updateTable('jobs')
      .set({ updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('status', '=', 'running')
      .returning('cancel_requested')
      .executeTakeFirst();
    return row && { cancelRequested: row.cancel_requested };
  }

  /**
   * Jobs unfinished and untouched for `staleMs` (their message lost to a delivery limit, say):
   * each gets a fresh work message through the outbox and a new updated_at, in one transaction.
   */
  async reenqueueStale(staleMs: number, limit: number, correlationId: string): Promise<JobRecord[]> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .updateTable('jobs')
        .set({ updated_at: sql<Date>`now()` })
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('jobs')
            .select('id')
            .where('status', 'in', ['queued', 'running'])
            .where('updated_at', '<', sql<Date>`now() - make_interval(secs => ${staleMs / 1000})`)
            .limit(limit)
            .forUpdate()
            .skipLocked(),
        )
        .returningAll()
        .execute();
      const jobs = rows.map(toJobRecord);
      await insertOutboxMessages(trx, jobs.map((job) => jobRunMessage(this.names, job, correlationId)));
      return jobs;
    });
  }

  /** Records progress of a running job and reports whether it has been asked to stop. */
  async reportProgress(id: string, progress: { fraction: number; message: string | null }, correlationId: string): Promise<Committed | undefined> {
    return this.transition(id, 'running', { progress }, correlationId);
  }

  /**
   * Publishes a job's latest event again (same event id): a redelivered message for a finished
   * job must not run it again, but the notifier must not miss how it ended.
   */
  async republishLatestEvent(job: JobRecord, correlationId: string): Promise<OutboxMessage[]> {
    const event = await this.db
      .selectFrom('job_events')
      .select(['event_id', 'occurred_at'])
      .where('job_id', '=', job.id)
      .where('sequence', '=', job.sequence)
      .executeTakeFirst();
    if (!event) return [];
    return insertOutboxMessages(this.db, [jobEventMessage(this.names, jobEventOf(job, event.event_id, event.occurred_at), correlationId)]);
  }
}
