import type { DeadLetter, DeadLetterDetail } from '@conveyor/contracts';
import {
  insertOutboxMessages,
  sql,
  type Database,
  type Kysely,
  type OutboxMessage,
  type Selectable,
  type Transaction,
} from '@conveyor/database';
import type { NewDeadLetter } from './dead-letter-message.js';
import { decodeCursor, encodeCursor, type SelectionFilter } from './dead-letter-selection.js';

type DeadLetterRow = Selectable<Database['dead_letters']>;

/** Redrives and purges go in batches this size, each its own transaction. */
const BATCH = 500;

export interface DeadLetterPageRecords {
  deadLetters: DeadLetter[];
  nextCursor: string | null;
  total: number;
}

/**
 * Dead letters kept in PostgreSQL: the cleanup moves them here from the dead-letter queue (the
 * row committed before the message is acked; a redelivered one is stored once, by message id),
 * operators list, redrive and purge them. A redrive deletes the row and writes the message to
 * the outbox in one transaction, straight to its work queue (the default exchange): interrupted,
 * it loses nothing; at worst the message is sent twice, which every consumer tolerates.
 */
export class DeadLetterStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** True when stored now, false when a letter with this message id was already there. */
  async add(letter: NewDeadLetter): Promise<boolean> {
    const inserted = await this.db
      .insertInto('dead_letters')
      .values({
        message_id: letter.messageId,
        queue: letter.queue,
        kind: letter.kind,
        job_id: letter.jobId,
        exchange: letter.exchange,
        routing_key: letter.routingKey,
        reason_code: letter.reason.code,
        reason_message: letter.reason.message,
        attempts: letter.attempts,
        body: letter.body,
        headers: JSON.stringify(letter.headers),
      })
      .onConflict((oc) => oc.column('message_id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  /** Newest first; undefined when the cursor is not one this store made. */
  async list(filter: {
    kind?: string;
    limit: number;
    cursor?: string;
  }): Promise<DeadLetterPageRecords | undefined> {
    const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor);
    if (filter.cursor !== undefined && !after) return undefined;
    let query = this.db.selectFrom('dead_letters').selectAll();
    let count = this.db.selectFrom('dead_letters').select((eb) => eb.fn.countAll<string>().as('total'));
    if (filter.kind !== undefined) {
      query = query.where('kind', '=', filter.kind);
      count = count.where('kind', '=', filter.kind);
    }
    if (after)
      query = query.where(({ eb, refTuple, tuple }) =>
        eb(refTuple('dead_lettered_at', 'id'), '<', tuple(after.deadLetteredAt, after.id)),
      );
    const [rows, { total }] = await Promise.all([
      query
        .select(sql<Date>`now()`.as('now'))
        .orderBy('dead_lettered_at', 'desc')
        .orderBy('id', 'desc')
        .limit(filter.limit + 1)
        .execute(),
      count.executeTakeFirstOrThrow(),
    ]);
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      deadLetters: page.map((row) => toDeadLetter(row, row.now)),
      nextCursor:
        rows.length > filter.limit && last
          ? encodeCursor({ deadLetteredAt: last.dead_lettered_at, id: last.id })
          : null,
      total: Number(total),
    };
  }

  async get(id: string): Promise<DeadLetterDetail | undefined> {
    const row = await this.db
      .selectFrom('dead_letters')
      .selectAll()
      .select(sql<Date>`now()`.as('now'))
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    return { ...toDeadLetter(row, row.now), body: parseBody(row.body), headers: headersOf(row.headers) };
  }

  async count(): Promise<number> {
    const { total } = await this.db
      .selectFrom('dead_letters')
      .select((eb) => eb.fn.countAll<string>().as('total'))
      .executeTakeFirstOrThrow();
    return Number(total);
  }

  /**
   * Puts the selected letters' messages back on their work queues through the outbox; returns
   * how many, and the outbox messages committed (send them now; the relay sends what this misses).
   */
  async redrive(selection: SelectionFilter): Promise<{ redriven: number; outbox: OutboxMessage[] }> {
    let redriven = 0;
    const outbox: OutboxMessage[] = [];
    for (;;) {
      const batch = await this.db.transaction().execute(async (trx) => {
        const rows = await this.claim(trx, selection);
        if (rows.length === 0) return [];
        const sent = await insertOutboxMessages(trx, rows.map(redriveMessage));
        await trx
          .deleteFrom('dead_letters')
          .where(
            'id',
            'in',
            rows.map((row) => row.id),
          )
          .execute();
        return sent;
      });
      redriven += batch.length;
      outbox.push(...batch);
      if (batch.length < BATCH) return { redriven, outbox };
    }
  }

  async purge(selection: SelectionFilter): Promise<number> {
    let purged = 0;
    for (;;) {
      const deleted = await this.db.transaction().execute(async (trx) => {
        const rows = await this.claim(trx, selection);
        if (rows.length === 0) return 0;
        await trx
          .deleteFrom('dead_letters')
          .where(
            'id',
            'in',
            rows.map((row) => row.id),
          )
          .execute();
        return rows.length;
      });
      purged += deleted;
      if (deleted < BATCH) return purged;
    }
  }

  /** A batch of the selected letters, locked; letters another redrive holds are skipped. */
  private claim(trx: Transaction<Database>, selection: SelectionFilter): Promise<DeadLetterRow[]> {
    let query = trx.selectFrom('dead_letters').selectAll();
    if ('ids' in selection) query = query.where('id', 'in', selection.ids);
    else if ('kind' in selection) query = query.where('kind', '=', selection.kind);
    return query.orderBy('dead_lettered_at').limit(BATCH).forUpdate().skipLocked().execute();
  }
}

/**
 * The message as first sent, straight to the queue it died in, with a fresh count of handler
 * attempts (the envelope's `attempt`): it would otherwise go to the dead-letter queue again on
 * its first failure.
 */
function redriveMessage(row: DeadLetterRow) {
  const envelope = parseBody(row.body);
  const isEnvelope = typeof envelope === 'object' && envelope !== null && 'attempt' in envelope;
  const correlationId =
    isEnvelope && 'correlationId' in envelope && typeof envelope.correlationId === 'string'
      ? envelope.correlationId
      : undefined;
  const type =
    isEnvelope && 'kind' in envelope && typeof envelope.kind === 'string' ? envelope.kind : undefined;
  return {
    exchange: '',
    routingKey: row.queue,
    messageId: row.message_id,
    correlationId,
    type,
    body: Buffer.from(isEnvelope ? JSON.stringify({ ...envelope, attempt: 0 }) : row.body, 'utf8'),
  };
}

function toDeadLetter(row: DeadLetterRow, now: Date): DeadLetter {
  return {
    id: row.id,
    queue: row.queue,
    kind: row.kind,
    jobId: row.job_id,
    reason: { code: row.reason_code, message: row.reason_message },
    attempts: row.attempts,
    deadLetteredAt: row.dead_lettered_at.toISOString(),
    ageSeconds: Math.max(0, (now.getTime() - row.dead_lettered_at.getTime()) / 1000),
  };
}

function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

function headersOf(headers: unknown): Record<string, unknown> {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) return {};
  return Object.fromEntries(Object.entries(headers));
}
