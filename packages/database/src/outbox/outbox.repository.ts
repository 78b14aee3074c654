import type { OutgoingMessage } from '@conveyor/contracts';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database, NewOutboxRow, OutboxRow } from '../schema.js';

type Executor = Kysely<Database> | Transaction<Database>;

/** An outgoing message as committed to the outbox, with the row id that deletes it once sent. */
export interface OutboxMessage extends OutgoingMessage {
  id: string;
}

/** The columns a message is rebuilt from (also what a CTE returning outbox rows yields). */
export type OutboxMessageRow = Pick<
  OutboxRow,
  'id' | 'exchange' | 'routing_key' | 'message_id' | 'correlation_id' | 'type' | 'body'
>;

export function toOutboxMessage(row: OutboxMessageRow): OutboxMessage {
  return {
    id: row.id,
    exchange: row.exchange,
    routingKey: row.routing_key,
    messageId: row.message_id,
    correlationId: row.correlation_id ?? undefined,
    type: row.type ?? undefined,
    body: Buffer.from(row.body, 'utf8'),
  };
}

/** Inserts messages and returns them with their ids, so the caller can send and delete them right after commit. */
export async function insertOutboxMessages(
  db: Executor,
  messages: OutgoingMessage[],
): Promise<OutboxMessage[]> {
  if (messages.length === 0) return [];
  const rows: NewOutboxRow[] = messages.map((m) => ({
    exchange: m.exchange,
    routing_key: m.routingKey,
    message_id: m.messageId,
    correlation_id: m.correlationId ?? null,
    type: m.type ?? null,
    body: m.body.toString('utf8'),
    last_error: null,
  }));
  const inserted = await db.insertInto('outbox').values(rows).returningAll().execute();
  return inserted.map(toOutboxMessage);
}

/** Oldest messages first, locked so that relays in several replicas never send the same row at once. */
export async function claimOutboxBatch(
  trx: Transaction<Database>,
  limit: number,
  minAgeMs = 0,
): Promise<OutboxMessage[]> {
  const rows = await trx
    .selectFrom('outbox')
    .selectAll()
    .where('created_at', '<=', sql<Date>`now() - make_interval(secs => ${minAgeMs / 1000})`)
    .orderBy('id')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute();
  return rows.map(toOutboxMessage);
}

/** One array parameter rather than one per id: the statement text is the same for every batch size. */
export async function deleteOutboxMessages(trx: Executor, ids: string[]): Promise<void> {
  if (ids.length > 0)
    await trx
      .deleteFrom('outbox')
      .where('id', '=', sql<string>`any(${ids}::bigint[])`)
      .execute();
}

export async function markOutboxFailures(
  trx: Transaction<Database>,
  ids: string[],
  error: string,
): Promise<void> {
  if (ids.length === 0) return;
  await trx
    .updateTable('outbox')
    .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: error }))
    .where('id', 'in', ids)
    .execute();
}
