import { randomUUID } from 'node:crypto';
import type { JobStatus } from '@conveyor/contracts';
import {
  jobEventRoutingKey,
  MessageCatalog,
  type JobKind,
  sourcesOf,
  type JobError,
  type OutgoingMessage,
  type TopologyNames,
} from '@conveyor/contracts';
import {
  PREPARED_STATEMENT,
  sql,
  type Database,
  type JobRow,
  type Kysely,
  type OutboxMessage,
} from '@conveyor/database';
import { envelopeTemplate } from '@conveyor/broker';

type SqlFragment = ReturnType<typeof sql.raw>;

/**
 * A job to insert (sequence 1) with the work message that will run it: status `queued`, or
 * `scheduled` when its runAt is still ahead (no work message then; the promoter sends it when due).
 */
export interface JobInsert {
  id: string;
  clientId: string;
  kind: JobKind;
  customId: string | null;
  requestHash: string;
  input: unknown;
  callbackUrl: string | null;
  correlationId: string;
  runMessage: OutgoingMessage;
  /**
   * The dispatcher (JobDispatcher) that will publish the work message, or null: the message is
   * written to the outbox with the job. A dispatcher whose lease row is gone (taken over) is
   * not recorded, and the outbox is used then too.
   */
  dispatcher: string | null;
  /** The creating request's W3C traceparent (tracing on), kept for whoever continues the trace. */
  traceParent: string | null;
  /** When it is due (a delayed job); null to run now. A time already past runs now too. */
  runAt: Date | null;
  /** The job's own timeout per attempt and most attempts; null: its kind's. */
  timeoutMs: number | null;
  maxAttempts: number | null;
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

/**
 * Which job changes publish an event message on the events exchange. Every change records its
 * job_events row either way; `callbacks` publishes only for jobs with a callbackUrl (the
 * notifier's only work: it drops the others), `all` for every job, for subscribers of the
 * events exchange of your own.
 */
export type JobEventPublishing = 'all' | 'callbacks';

/** A status change of one job, allowed only from the statuses the transition table gives for `to`. */
export interface JobUpdate {
  id: string;
  to: JobStatus;
  patch: JobPatch;
  correlationId: string;
  /**
   * A start: allowed only if the job is not asked to cancel and is queued, or running but
   * untouched for this long (its runner died). With `to` other than `running`, the job starts
   * and ends in this one change (a run too short to be worth committing `running` first):
   * `to` must be a status `running` may move to.
   */
  startStaleAfterMs?: number;
  /**
   * The statuses the change may leave, instead of the transition table's: only an explicit
   * reopening (a retry of a finished job) passes them.
   */
  reopenFrom?: JobStatus[];
}

/** A change that committed: the job row as it now stands and the outbox rows committed with it. */
export interface CommittedRow {
  row: JobRow;
  outbox: OutboxMessage[];
}

/**
 * A changed job row with what the statement also wrote: its outbox row ids and the event
 * message's body (null when the change published no event, see JobEventPublishing).
 */
type ResultRow = JobRow & {
  ord: number;
  run_outbox_id?: string | null;
  event_outbox_id: string | null;
  event_body: string | null;
};

/** What a batch item carries into every statement, besides its own columns. */
interface BatchItem {
  ord: number;
  id: string;
  correlation_id: string;
  /** Generated here rather than in SQL so the event's message is found by it without a join on job_events. */
  event_id: string;
}

/**
 * Inserts jobs, their first events and their outbox rows (the work message unless a dispatcher
 * publishes it, then the event message where it has a reader) as ONE statement (data-modifying CTEs over one jsonb parameter): one round trip and one commit
 * for the whole batch, all or nothing. Its text is the same for every batch, so it is prepared
 * once per connection (as is the update's). A job whose (client, customId) is taken, by an earlier
 * job or by an earlier item of the same batch, is not inserted and gets undefined.
 */
export async function commitJobInserts(
  db: Kysely<Database>,
  names: TopologyNames,
  jobs: JobInsert[],
  events: JobEventPublishing,
): Promise<(CommittedRow | undefined)[]> {
  if (jobs.length === 0) return [];
  const batch = jobs.map((job, ord) => ({
    ord,
    id: job.id,
    event_id: randomUUID(),
    client_id: job.clientId,
    kind: job.kind,
    custom_id: job.customId,
    request_hash: job.requestHash,
    input: job.input,
    callback_url: job.callbackUrl,
    correlation_id: job.correlationId,
    run_exchange: job.runMessage.exchange,
    run_routing_key: job.runMessage.routingKey,
    run_message_id: job.runMessage.messageId,
    run_type: job.runMessage.type ?? null,
    run_body: job.runMessage.body.toString('utf8'),
    dispatcher: job.dispatcher,
    trace_parent: job.traceParent,
    run_at: job.runAt,
    timeout_ms: job.timeoutMs,
    max_attempts: job.maxAttempts,
  }));
  const { rows } = await sql<ResultRow>`${sql.raw(PREPARED_STATEMENT)}
    with batch as (
      select * from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as b(ord int, id uuid, event_id uuid, client_id text, kind text, custom_id text,
        request_hash text, input jsonb, callback_url text, correlation_id text, run_exchange text, run_routing_key text,
        run_message_id text, run_type text, run_body text, dispatcher text, trace_parent text, run_at timestamptz,
        timeout_ms int, max_attempts int)
    ),
    -- A dispatcher's lease row, held (KEY SHARE) until this commits so that a recovery of it
    -- waits for these jobs, or is waited for and leaves no row: then the outbox takes them.
    dispatcher as (
      select id from job_dispatchers where id in (select dispatcher from batch) for key share
    ),
    changed as (
      insert into jobs (id, client_id, kind, custom_id, request_hash, input, status, callback_url, sequence, dispatcher, trace_parent, run_at,
        timeout_ms, max_attempts)
      -- One order for every writer, so two batches with the same customIds cannot deadlock. A job
      -- due later is scheduled, without a dispatcher (nothing to publish until the promoter's turn).
      select b.id, b.client_id, b.kind, b.custom_id, b.request_hash, b.input,
        case when b.run_at > now() then 'scheduled' else 'queued' end, b.callback_url, 1,
        case when b.run_at > now() then null else d.id end, b.trace_parent, b.run_at, b.timeout_ms, b.max_attempts
      from batch b left join dispatcher d on d.id = b.dispatcher order by b.client_id, b.custom_id, b.ord
      on conflict (client_id, custom_id) where custom_id is not null do nothing
      returning *
    ),
    ${eventAndOutbox(
      names,
      events,
      sql`select b.ord, 0 as n, b.run_exchange, b.run_routing_key, b.run_message_id, b.correlation_id, b.run_type, b.run_body
      from changed join batch b on b.id = changed.id where changed.dispatcher is null and changed.status = 'queued'`,
    )}
    select ${jobColumns}, b.ord, run.id as run_outbox_id, event.id as event_outbox_id, event.body as event_body
    from changed join batch b on b.id = changed.id left join sent run on run.message_id = b.run_message_id left join sent event on event.message_id = b.event_id::text
  `.execute(db);
  return byOrd(names, batch, rows, (item, row) =>
    row.run_outbox_id ? [{ ...jobs[item.ord]!.runMessage, id: row.run_outbox_id }] : [],
  );
}

/**
 * Applies status changes to distinct jobs as ONE statement: each row is updated under the
 * transition table's guard (sourcesOf(to), so a stale writer can never resurrect a finished
 * job), its sequence bumped, its event recorded and the event's message written to the outbox.
 * A change whose guard fails gets undefined and writes nothing. The ids must be distinct.
 */
export async function commitJobUpdates(
  db: Kysely<Database>,
  names: TopologyNames,
  updates: JobUpdate[],
  events: JobEventPublishing,
): Promise<(CommittedRow | undefined)[]> {
  if (updates.length === 0) return [];
  const batch = updates.map(({ id, to, patch, correlationId, startStaleAfterMs, reopenFrom }, ord) => ({
    ord,
    id,
    event_id: randomUUID(),
    to_status: to,
    sources: reopenFrom ?? (startStaleAfterMs === undefined ? sourcesOf(to) : START_SOURCES),
    correlation_id: correlationId,
    set_progress: patch.progress !== undefined,
    progress: patch.progress?.fraction ?? null,
    progress_message: patch.progress?.message ?? null,
    set_result: patch.result !== undefined,
    result: patch.result ?? null,
    set_error: patch.error !== undefined,
    error_code: patch.error?.code ?? null,
    error_message: patch.error?.message ?? null,
    increment_attempts: patch.incrementAttempts ?? false,
    started_at: patch.startedAt ?? null,
    finished_at: patch.finishedAt ?? null,
    set_expires: patch.expiresAt !== undefined,
    expires_at: patch.expiresAt ?? null,
    stale_secs: startStaleAfterMs === undefined ? null : startStaleAfterMs / 1000,
  }));
  const { rows } = await sql<ResultRow>`${sql.raw(PREPARED_STATEMENT)}
    with batch as (
      select * from jsonb_to_recordset(${JSON.stringify(batch)}::jsonb) as b(ord int, id uuid, event_id uuid, to_status text, sources text[], correlation_id text,
        set_progress boolean, progress double precision, progress_message text, set_result boolean, result jsonb,
        set_error boolean, error_code text, error_message text, increment_attempts boolean, started_at timestamptz,
        finished_at timestamptz, set_expires boolean, expires_at timestamptz, stale_secs double precision)
    ),
    changed as (
      update jobs set
        status = b.to_status,
        sequence = jobs.sequence + 1,
        updated_at = now(),
        progress = case when b.set_progress then b.progress else jobs.progress end,
        progress_message = case when b.set_progress then b.progress_message else jobs.progress_message end,
        result = case when b.set_result then b.result else jobs.result end,
        error_code = case when b.set_error then b.error_code else jobs.error_code end,
        error_message = case when b.set_error then b.error_message else jobs.error_message end,
        attempts = jobs.attempts + case when b.increment_attempts then 1 else 0 end,
        started_at = coalesce(b.started_at, jobs.started_at),
        finished_at = coalesce(b.finished_at, jobs.finished_at),
        expires_at = case when b.set_expires then b.expires_at else jobs.expires_at end
      from batch b
      -- The id list lets the planner look the rows up by primary key rather than join the whole table.
      where jobs.id = any(${batch.map((item) => item.id)}::uuid[]) and jobs.id = b.id and jobs.status = any(b.sources)
        and (b.stale_secs is null or (not jobs.cancel_requested and (jobs.status = 'queued'
          or (jobs.status = 'running' and jobs.updated_at < now() - make_interval(secs => b.stale_secs)))))
      returning jobs.*
    ),
    ${eventAndOutbox(names, events)}
    select ${jobColumns}, b.ord, event.id as event_outbox_id, event.body as event_body
    from changed join batch b on b.id = changed.id left join sent event on event.message_id = b.event_id::text
  `.execute(db);
  return byOrd(names, batch, rows, () => []);
}

/** Where a start comes from: queued, or running with a dead runner (the guard says which). */
const START_SOURCES: JobStatus[] = ['queued', 'running'];

/**
 * The job columns the statements return, named rather than `changed.*`: a prepared statement
 * whose result columns changed (a migration adding a column while the service runs) fails with
 * "cached plan must not change result type" on every connection that prepared it.
 */
const JOB_COLUMNS: Record<keyof JobRow, true> = {
  id: true,
  client_id: true,
  kind: true,
  custom_id: true,
  request_hash: true,
  input: true,
  status: true,
  progress: true,
  progress_message: true,
  result: true,
  error_code: true,
  error_message: true,
  attempts: true,
  callback_url: true,
  cancel_requested: true,
  sequence: true,
  created_at: true,
  updated_at: true,
  started_at: true,
  finished_at: true,
  expires_at: true,
  expired: true,
  dispatcher: true,
  trace_parent: true,
  run_at: true,
  timeout_ms: true,
  max_attempts: true,
};
const jobColumns = sql.join(Object.keys(JOB_COLUMNS).map((column) => sql.ref(`changed.${column}`)));

/** Each item's result by its position: undefined when its change hit no row; else the row and its outbox messages, in id order. */
function byOrd(
  names: TopologyNames,
  batch: BatchItem[],
  rows: ResultRow[],
  alsoSent: (item: BatchItem, row: ResultRow) => OutboxMessage[],
): (CommittedRow | undefined)[] {
  const results = new Array<CommittedRow | undefined>(batch.length).fill(undefined);
  for (const result of rows) {
    const {
      ord,
      run_outbox_id: _run,
      event_outbox_id: eventOutboxId,
      event_body: eventBody,
      ...row
    } = result;
    const item = batch[ord]!;
    const outbox = alsoSent(item, result);
    if (eventOutboxId !== null && eventBody !== null)
      outbox.push({
        id: eventOutboxId,
        exchange: names.eventsExchange,
        routingKey: jobEventRoutingKey(row.kind, row.status as JobStatus),
        messageId: item.event_id,
        correlationId: item.correlation_id,
        type: MessageCatalog['job.event'].kind,
        body: Buffer.from(eventBody, 'utf8'),
      });
    results[ord] = { row, outbox };
  }
  return results;
}

/**
 * The CTEs shared by every change, after `batch` (with ord, id, correlation_id) and `changed`
 * (the job rows the change hit): one job_events row per changed job, and its event message in
 * the outbox where `events` says it has a reader, after the `also` messages (rows of ord, n, exchange, routing key, message id,
 * correlation id, type, body). The event message is the envelope `jobEventMessage` builds from
 * `jobEventOf(changed row, event)` (see the job-store test), built in SQL because only the
 * database knows the job's new state and the event's occurred_at before the statement commits.
 */
function eventAndOutbox(names: TopologyNames, events: JobEventPublishing, also?: SqlFragment): SqlFragment {
  const definition = MessageCatalog['job.event'];
  // encodeEnvelope's own text, its per-row parts filled in here: a fresh messageId for the
  // envelope (the AMQP message id is the event id), the transaction's time, the row's
  // correlation id and the event as the database knows it once the change is made.
  const template = envelopeTemplate({ kind: definition.kind, version: definition.version, attempt: 0 });
  const fill = {
    messageId: sql`to_json(gen_random_uuid()::text)::text`,
    createdAt: sql`to_json(to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text`,
    correlationId: sql`to_json(b.correlation_id)::text`,
    payload: sql`${jobEventJson()}::text`,
  };
  const parts = template.pieces.flatMap((piece, i) => {
    const hole = template.holes[i];
    return hole === undefined ? [sql`${piece}::text`] : [sql`${piece}::text`, fill[hole]];
  });
  const envelope = sql.join(parts, sql` || `);
  const eventMessage = sql`select b.ord, 1 as n, ${names.eventsExchange}::text, ${eventRoutingKey()}, b.event_id::text, b.correlation_id,
    ${definition.kind}::text, ${envelope}
    from changed join batch b on b.id = changed.id
    ${events === 'callbacks' ? sql`where changed.callback_url is not null` : sql``}`;
  // occurred_at is now(), the transaction's time, the same in the event row and in its message.
  return sql`event as (
      insert into job_events (job_id, sequence, event_id, status, progress, progress_message, attempt, error_code, error_message, occurred_at)
      select changed.id, changed.sequence, b.event_id, changed.status, changed.progress, changed.progress_message,
        changed.attempts, changed.error_code, changed.error_message, now()
      from changed join batch b on b.id = changed.id
    ),
    message (ord, n, exchange, routing_key, message_id, correlation_id, type, body) as (
      ${also ? sql`${also} union all ${eventMessage}` : eventMessage}
    ),
    sent as (
      insert into outbox (exchange, routing_key, message_id, correlation_id, type, body)
      select exchange, routing_key, message_id, correlation_id, type, body from message order by ord, n
      returning id::text as id, message_id, body
    )`;
}

/** `jobEventOf(toJobRecord(changed), b.event_id, now())` as json. */
function jobEventJson(): SqlFragment {
  return sql`json_build_object(
    'eventId', b.event_id,
    'jobId', changed.id,
    'clientId', changed.client_id,
    'kind', changed.kind,
    'customId', changed.custom_id,
    'status', changed.status,
    'sequence', changed.sequence,
    'progress', json_build_object('fraction', changed.progress, 'message', changed.progress_message),
    'result', changed.result,
    'error', case when changed.error_code <> '' then json_build_object('code', changed.error_code, 'message', coalesce(changed.error_message, '')) end,
    'callbackUrl', changed.callback_url,
    'occurredAt', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  )`;
}

/** The event's routing key, jobEventRoutingKey(kind, status) from the row's own columns. */
function eventRoutingKey(): SqlFragment {
  return sql`'job.' || changed.kind || '.' || changed.status`;
}
