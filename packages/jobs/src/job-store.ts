import { randomUUID } from 'node:crypto';
import {
  type JobHistoryEntry,
  type JobKind,
  type JobStats,
  type JobStatus,
  type TopologyNames,
} from '@conveyor/contracts';
import {
  insertOutboxMessages,
  sql,
  type Database,
  type JobRow,
  type Kysely,
  type OutboxMessage,
  type Transaction,
} from '@conveyor/database';
import { Batcher, type BatcherOptions } from '@conveyor/platform';
import {
  commitJobInserts,
  commitJobUpdates,
  type CommittedRow,
  type JobEventPublishing,
  type JobInsert,
  type JobPatch,
  type JobUpdate,
} from './job-change.js';
import { jobEventMessage, jobEventOf, jobRunMessage } from './job-messages.js';
import { toJobRecord, type JobRecord } from './job-record.js';
import { jobHistoryEntries } from './history/job-history.js';
import { hasOpenDeliveries, readDeliveryAttempts, readJobEvents } from './history/job-history.repository.js';
import { retryJob, type RetryOutcome } from './history/job-retry.js';
import type { JobDispatcher } from './dispatch/job-dispatcher.js';

type Executor = Kysely<Database> | Transaction<Database>;

export type { JobEventPublishing, JobPatch } from './job-change.js';

export interface NewJob {
  clientId: string;
  kind: JobKind;
  customId: string | null;
  requestHash: string;
  input: unknown;
  callbackUrl: string | null;
  /** The creating request's W3C traceparent, when tracing is on. */
  traceParent?: string | undefined;
  /** A delayed job's due time: it stays `scheduled` until then. Absent (or past): it runs now. */
  runAt?: Date | undefined;
  /** The job's own timeout per attempt and most attempts (within its kind's); unset: its kind's. */
  timeoutMs?: number | undefined;
  maxAttempts?: number | undefined;
}

/** A change that committed, with the outbox messages committed alongside it (send them now). */
export interface Committed {
  job: JobRecord;
  outbox: OutboxMessage[];
}

export interface JobListFilter {
  /** One client's jobs; every client's when absent (an operator's view). */
  clientId?: string;
  status?: JobStatus;
  kind?: JobKind;
  customId?: string;
  limit: number;
  /** The id of the last job of the previous page. */
  after?: string;
}

export interface JobStoreOptions {
  /**
   * Group commit: job inserts and status changes made at about the same time (by concurrent
   * requests or deliveries) are written together, one statement and one commit per batch.
   * Every caller still resolves only after its own change has committed. Off (one statement
   * per change) when absent.
   */
  batch?: BatcherOptions;
  /** Which changes publish an event message (see JobEventPublishing). Default `callbacks`. */
  events?: JobEventPublishing;
  /**
   * Publishes new jobs' work messages with the job row as their record (see JobDispatcher).
   * Without it, each work message is written to the outbox with its job.
   */
  dispatcher?: JobDispatcher;
}

/**
 * The one place job state changes. Every change is one SQL statement (see job-change.ts) that
 * updates the row under the transition table's guard (so a stale writer can never resurrect a
 * finished job), bumps the sequence, records the event, and writes to the outbox what must be
 * published with it: the event where it has a reader (JobEventPublishing), and a new job's work
 * message unless a dispatcher publishes it (the job row then records it; see JobDispatcher). So
 * nothing is published that did not commit and nothing committed goes unpublished. With `batch`,
 * one such statement carries the changes of many jobs.
 */
export class JobStore {
  private readonly inserts: (job: JobInsert) => Promise<CommittedRow | undefined>;
  private readonly updates: (update: JobUpdate) => Promise<CommittedRow | undefined>;
  private readonly events: JobEventPublishing;
  private readonly dispatcher: JobDispatcher | undefined;
  private readonly reads: (id: string) => Promise<JobRow | undefined>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly names: TopologyNames,
    options: JobStoreOptions = {},
  ) {
    const events = (this.events = options.events ?? 'callbacks');
    this.dispatcher = options.dispatcher;
    const insertMany = (jobs: JobInsert[]) => commitJobInserts(db, names, jobs, events);
    const updateMany = (updates: JobUpdate[]) => updateDistinctJobs(db, names, updates, events);
    const readMany = (ids: string[]) => readJobs(db, ids);
    if (options.batch) {
      const inserts = new Batcher(insertMany, options.batch);
      const updates = new Batcher(updateMany, options.batch);
      const reads = new Batcher(readMany, options.batch);
      this.inserts = (job) => inserts.add(job);
      this.updates = (update) => updates.add(update);
      this.reads = (id) => reads.add(id);
    } else {
      this.inserts = async (job) => (await insertMany([job]))[0];
      this.updates = async (update) => (await updateMany([update]))[0];
      this.reads = async (id) => (await readMany([id]))[0];
    }
  }

  /** Creates a job, or returns the client's existing job with the same customId (created = false). */
  async create(job: NewJob, correlationId: string): Promise<Committed & { created: boolean }> {
    const id = randomUUID();
    // The work message names only the job's id and kind, both known before the insert.
    const traceParent = job.traceParent ?? null;
    const runMessage = jobRunMessage(this.names, { id, kind: job.kind, traceParent }, correlationId);
    const runAt = job.runAt ?? null;
    const committed = await this.insert({
      ...job,
      id,
      correlationId,
      runMessage,
      traceParent,
      runAt,
      timeoutMs: job.timeoutMs ?? null,
      maxAttempts: job.maxAttempts ?? null,
    });
    if (committed) return { job: toJobRecord(committed.row), outbox: committed.outbox, created: true };
    // Lost the race to (or repeated) an earlier request with this customId: that job stands. The
    // conflicting insert had committed (ON CONFLICT waits for it), so this read sees it.
    const existing = await this.findByCustomId(job.clientId, job.customId!);
    if (!existing) throw new Error(`job with customId ${job.customId} vanished during creation`);
    return { job: existing, outbox: [], created: false };
  }

  /** A job by id, read together with the other reads made at about the same time (see `batch`). */
  async load(id: string): Promise<JobRecord | undefined> {
    const row = await this.reads(id);
    return row && toJobRecord(row);
  }

  /** Inserts a job; with a dispatcher, hands it the work message to publish once committed. */
  private async insert(job: Omit<JobInsert, 'dispatcher'>): Promise<CommittedRow | undefined> {
    const { dispatcher } = this;
    const ticket = dispatcher?.take();
    if (!dispatcher || ticket === undefined) return this.inserts({ ...job, dispatcher: null });
    let committed: CommittedRow | undefined;
    try {
      committed = await this.inserts({ ...job, dispatcher: dispatcher.id });
    } catch (error) {
      dispatcher.uncertain(ticket, job.id, job.runMessage);
      throw error;
    }
    if (committed?.row.dispatcher === dispatcher.id)
      dispatcher.committed(ticket, committed.row.created_at, job.runMessage);
    else dispatcher.notDispatched(ticket);
    return committed;
  }

  async get(id: string, clientId?: string, db: Executor = this.db): Promise<JobRecord | undefined> {
    let query = db.selectFrom('jobs').selectAll().where('id', '=', id);
    if (clientId !== undefined) query = query.where('client_id', '=', clientId);
    const row = await query.executeTakeFirst();
    return row && toJobRecord(row);
  }

  async findByCustomId(
    clientId: string,
    customId: string,
    db: Executor = this.db,
  ): Promise<JobRecord | undefined> {
    const row = await db
      .selectFrom('jobs')
      .selectAll()
      .where('client_id', '=', clientId)
      .where('custom_id', '=', customId)
      .executeTakeFirst();
    return row && toJobRecord(row);
  }

  /** Newest first; `after` continues from the last id of the previous page (keyset pagination). */
  async list(filter: JobListFilter): Promise<JobRecord[]> {
    let query = this.db.selectFrom('jobs').selectAll();
    if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId);
    if (filter.status) query = query.where('status', '=', filter.status);
    if (filter.kind) query = query.where('kind', '=', filter.kind);
    if (filter.customId) query = query.where('custom_id', '=', filter.customId);
    if (filter.after) {
      const after = filter.after;
      query = query.where(({ eb, refTuple, selectFrom }) =>
        eb(
          refTuple('created_at', 'id'),
          '<',
          selectFrom('jobs as cursor')
            .select(['cursor.created_at', 'cursor.id'])
            .where('cursor.id', '=', after)
            .$asTuple('created_at', 'id'),
        ),
      );
    }
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit)
      .execute();
    return rows.map(toJobRecord);
  }

  /** Counts of one client's jobs, or of every client's when `clientId` is undefined. */
  async stats(clientId: string | undefined): Promise<JobStats> {
    let query = this.db
      .selectFrom('jobs')
      .select(['kind', 'status', (eb) => eb.fn.countAll<string>().as('count')]);
    if (clientId !== undefined) query = query.where('client_id', '=', clientId);
    const rows = await query.groupBy(['kind', 'status']).execute();
    const none = { scheduled: 0, queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0 };
    const byStatus: Record<string, number> = { ...none };
    const byKind: Record<string, Record<string, number>> = {};
    for (const row of rows) {
      const count = Number(row.count);
      byStatus[row.status] = (byStatus[row.status] ?? 0) + count;
      byKind[row.kind] ??= { ...none };
      byKind[row.kind]![row.status] = count;
    }
    return { byStatus, byKind, inProgress: (byStatus.queued ?? 0) + (byStatus.running ?? 0) } as JobStats;
  }

  /** Moves a job to `to` if the transition table allows it from its current status; undefined otherwise. */
  async transition(
    id: string,
    to: JobStatus,
    patch: JobPatch,
    correlationId: string,
  ): Promise<Committed | undefined> {
    return this.changeStatus({ id, to, patch, correlationId });
  }

  /**
   * Starts (or restarts) a job in one statement: queued, or running but silent for `staleAfterMs`
   * (its runner died), and not asked to cancel. Undefined when it may not start; read the row to
   * see why (finished, cancel requested, running elsewhere, missing).
   */
  async start(id: string, staleAfterMs: number, correlationId: string): Promise<Committed | undefined> {
    const patch: JobPatch = { incrementAttempts: true, startedAt: new Date(), error: null };
    return this.changeStatus({ id, to: 'running', patch, correlationId, startStaleAfterMs: staleAfterMs });
  }

  /**
   * Starts and ends a job in one change, for a run that ended before its start was worth
   * committing on its own: the start's guard (see `start`), the attempt counted, `startedAt`
   * the run's. Undefined when it may not start, as for `start`.
   */
  async startAndFinish(
    id: string,
    to: JobStatus,
    patch: JobPatch,
    staleAfterMs: number,
    correlationId: string,
  ): Promise<Committed | undefined> {
    return this.changeStatus({
      id,
      to,
      patch: { error: null, ...patch, incrementAttempts: true },
      correlationId,
      startStaleAfterMs: staleAfterMs,
    });
  }

  /** Every status change: the row under the transition table's guard, the event row and the event's outbox row. */
  private async changeStatus(update: JobUpdate): Promise<Committed | undefined> {
    const committed = await this.updates(update);
    return committed && { job: toJobRecord(committed.row), outbox: committed.outbox };
  }

  /**
   * Cancels a job: a scheduled or queued one at once (it will never run); a running one is flagged and stops
   * at its next progress check. Returns the job as it now stands, or undefined if not the client's.
   */
  async requestCancel(
    id: string,
    clientId: string | undefined,
    correlationId: string,
  ): Promise<Committed | undefined> {
    const job = await this.get(id, clientId);
    if (!job) return undefined;
    if (job.status === 'queued' || job.status === 'scheduled') {
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

  /** A new attempt of a failed or cancelled job (see retryJob); `clientId` limits it to that client's jobs. */
  async retry(id: string, clientId: string | undefined, correlationId: string): Promise<RetryOutcome> {
    return retryJob(this.db, this.names, this.events, { id, clientId }, correlationId);
  }

  /** A job's history, oldest first: status changes, progress and webhook delivery attempts. */
  async history(id: string): Promise<JobHistoryEntry[]> {
    const [events, attempts] = await Promise.all([
      readJobEvents(this.db, id),
      readDeliveryAttempts(this.db, id),
    ]);
    return jobHistoryEntries(events, attempts);
  }

  /** Whether every webhook delivery of the job has settled (none pending or being sent). */
  async deliveriesSettled(id: string): Promise<boolean> {
    return !(await hasOpenDeliveries(this.db, id));
  }

  /**
   * Jobs created within the last `createdWithinMs` whose latest change is at or after `since`,
   * newest change first, and the database's time before the read (the next `since`, less a
   * margin for changes committing late). Bounded by the created_at index: reading updated_at
   * alone would scan the table.
   */
  async changedSince(
    since: Date,
    createdWithinMs: number,
    limit: number,
  ): Promise<{ jobs: JobRecord[]; readAt: Date }> {
    const { now } = await sql<{ now: Date }>`select now() as now`
      .execute(this.db)
      .then((result) => result.rows[0] ?? { now: new Date() });
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('created_at', '>', sql<Date>`now() - make_interval(secs => ${createdWithinMs / 1000})`)
      .where('updated_at', '>=', since)
      .orderBy('updated_at', 'desc')
      .limit(limit)
      .execute();
    return { jobs: rows.map(toJobRecord), readAt: now };
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
      await insertOutboxMessages(
        trx,
        jobs.map((job) => jobRunMessage(this.names, job, correlationId)),
      );
      return jobs;
    });
  }

  /** Records progress of a running job and reports whether it has been asked to stop. */
  async reportProgress(
    id: string,
    progress: { fraction: number; message: string | null },
    correlationId: string,
  ): Promise<Committed | undefined> {
    return this.transition(id, 'running', { progress }, correlationId);
  }

  /**
   * Publishes a job's latest event again (same event id): a redelivered message for a finished
   * job must not run it again, but the notifier must not miss how it ended.
   */
  async republishLatestEvent(job: JobRecord, correlationId: string): Promise<OutboxMessage[]> {
    if (this.events === 'callbacks' && job.callbackUrl === null) return [];
    const event = await this.db
      .selectFrom('job_events')
      .select(['event_id', 'occurred_at'])
      .where('job_id', '=', job.id)
      .where('sequence', '=', job.sequence)
      .executeTakeFirst();
    if (!event) return [];
    return insertOutboxMessages(this.db, [
      jobEventMessage(this.names, jobEventOf(job, event.event_id, event.occurred_at), correlationId),
    ]);
  }
}

/** The rows of `ids` (one statement), in the ids' order; undefined for a missing one. */
async function readJobs(db: Kysely<Database>, ids: string[]): Promise<(JobRow | undefined)[]> {
  const rows = await db
    .selectFrom('jobs')
    .selectAll()
    .where('id', '=', sql<string>`any(${ids}::uuid[])`)
    .execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => byId.get(id));
}

/**
 * commitJobUpdates for any list of changes: a job named twice (a duplicate delivery, say) has
 * its later changes applied by a following statement, in order, since one UPDATE changes a row
 * only once.
 */
async function updateDistinctJobs(
  db: Kysely<Database>,
  names: TopologyNames,
  updates: JobUpdate[],
  events: JobEventPublishing,
): Promise<(CommittedRow | undefined)[]> {
  const results = new Array<CommittedRow | undefined>(updates.length).fill(undefined);
  let rest = updates.map((update, index) => ({ update, index }));
  while (rest.length > 0) {
    const seen = new Set<string>();
    const now: typeof rest = [];
    const later: typeof rest = [];
    for (const entry of rest) {
      if (seen.has(entry.update.id)) later.push(entry);
      else {
        seen.add(entry.update.id);
        now.push(entry);
      }
    }
    const committed = await commitJobUpdates(
      db,
      names,
      now.map((entry) => entry.update),
      events,
    );
    now.forEach((entry, i) => (results[entry.index] = committed[i]));
    rest = later;
  }
  return results;
}
