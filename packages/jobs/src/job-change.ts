import { randomUUID } from 'node:crypto';
import { JobKind, jobEventRoutingKey, MessageCatalog, type JobStatus, type OutgoingMessage, type TopologyNames } from '@conveyor/contracts';
import { sql, toOutboxMessage, type Database, type JobRow, type Kysely, type OutboxMessage, type OutboxMessageRow } from '@conveyor/database';

type SqlFragment = ReturnType<typeof sql.raw>;

/** A Kysely query builder (it becomes the `changed` CTE): an UPDATE or INSERT on `jobs` with `returningAll()`. */
type JobRowsQuery = { toOperationNode(): unknown };

export interface JobChange {
  /** The job change: an UPDATE or INSERT on `jobs` with `returningAll()`; it may affect no row. */
  change: JobRowsQuery;
  /** The status the change leaves the job in (it sets the event's routing key). */
  status: JobStatus;
  correlationId: string;
  /** Messages to put in the outbox too, before the event, if (and only if) the change hit a row. */
  alsoSend?: OutgoingMessage[];
}

type OutboxJson = OutboxMessageRow;

/**
 * Runs a job change, its job_events row and its outbox rows as ONE statement (data-modifying
 * CTEs): one round trip and one commit, no BEGIN/COMMIT, and still all or nothing. The event
 * message is the same envelope `jobEventMessage` builds (see the job-change test), but built in
 * SQL from the row the change returned, because only the database knows the job's new state
 * (sequence, kind, progress...) and the event's occurred_at before the statement commits.
 * Returns undefined when the change hit no row (guard failed, conflict), and then wrote nothing.
 */
export async function commitJobChange(
  db: Kysely<Database>,
  names: TopologyNames,
  { change, status, correlationId, alsoSend = [] }: JobChange,
): Promise<{ row: JobRow; outbox: OutboxMessage[] } | undefined> {
  const eventId = randomUUID();
  const { rows } = await sql<JobRow & { outbox: OutboxJson[] }>`
    with changed as (${change}),
    event as (
      insert into job_events (job_id, sequence, event_id, status, progress, progress_message)
      select id, sequence, ${eventId}::uuid, status, progress, progress_message from changed
      returning event_id, occurred_at
    ),
    sent as (
      insert into outbox (exchange, routing_key, message_id, correlation_id, type, body)
      ${sql.join([...alsoSend.map(fromChanged), eventMessage(names, status, correlationId)], sql` union all `)}
      returning id::text as id, exchange, routing_key, message_id, correlation_id, type, body
    )
    select changed.*, (select json_agg(sent order by sent.id::bigint) from sent) as outbox from changed
  `.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  const { outbox, ...jobRow } = row;
  return { row: jobRow, outbox: outbox.map(toOutboxMessage) };
}

/** One given outbox row, produced only when the change hit a row. */
function fromChanged(message: OutgoingMessage): SqlFragment {
  return sql`select ${message.exchange}::text, ${message.routingKey}::text, ${message.messageId}::text,
    ${message.correlationId ?? null}::text, ${message.type ?? null}::text, ${message.body.toString('utf8')}::text from changed`;
}

/** The outbox row of `jobEventMessage(names, jobEventOf(changed row, event), correlationId)`. */
function eventMessage(names: TopologyNames, status: JobStatus, correlationId: string): SqlFragment {
  const definition = MessageCatalog['job.event'];
  // Same fields as createEnvelope: a fresh messageId for the envelope; the AMQP message id is the event id.
  const envelope = sql`jsonb_build_object(
    'messageId', ${randomUUID()}::text,
    'kind', ${definition.kind}::text,
    'version', ${definition.version}::int,
    'createdAt', ${new Date().toISOString()}::text,
    'attempt', 0,
    'correlationId', ${correlationId}::text,
    'payload', ${jobEventJson()}
  )`;
  return sql`select ${names.eventsExchange}::text, ${eventRoutingKey(status)}, event.event_id::text, ${correlationId}::text,
    ${definition.kind}::text, ${envelope}::text from changed, event`;
}

/** `jobEventOf(toJobRecord(changed), event.event_id, event.occurred_at)` as jsonb. */
function jobEventJson(): SqlFragment {
  return sql`jsonb_build_object(
    'eventId', event.event_id,
    'jobId', changed.id,
    'clientId', changed.client_id,
    'kind', changed.kind,
    'customId', changed.custom_id,
    'status', changed.status,
    'sequence', changed.sequence,
    'progress', jsonb_build_object('fraction', changed.progress, 'message', changed.progress_message),
    'result', changed.result,
    'error', case when changed.error_code <> '' then jsonb_build_object('code', changed.error_code, 'message', coalesce(changed.error_message, '')) end,
    'callbackUrl', changed.callback_url,
    'occurredAt', to_char(event.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  )`;
}

/**
 * The event's routing key, from jobEventRoutingKey for each known kind (the kind is in the row,
 * not known here). An unknown kind gives null, which the NOT NULL column refuses: nothing commits.
 */
function eventRoutingKey(status: JobStatus): SqlFragment {
  const cases = JobKind.options.map((kind) => sql`when ${kind}::text then ${jobEventRoutingKey(kind, status)}::text`);
  return sql`case changed.kind ${sql.join(cases, sql` `)} end`;
}
