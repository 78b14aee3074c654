import { errorMessage, sleep, type Logger } from '@conveyor/platform';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import {
  claimOutboxBatch,
  deleteOutboxMessages,
  markOutboxFailures,
  type OutboxMessage,
} from './outbox.repository.js';

export interface OutboxRelayDeps {
  db: Kysely<Database>;
  /** Resolves once the broker has confirmed the message. */
  publish: (message: OutboxMessage) => Promise<void>;
  /** False while the broker is known to be down: the relay waits instead of failing batches. */
  isReady: () => boolean;
  log: Logger;
}

export interface OutboxRelayOptions {
  pollMs: number;
  batchSize: number;
  /**
   * Rows younger than this are left to the writer that just committed them and is sending them
   * itself (sendNow); the relay is the safety net for the ones it could not send. Default 0.
   */
  minAgeMs?: number;
  /**
   * How long sendNow collects confirmed ids before deleting them in one statement. Default 50:
   * a busy service's deletes then cost one commit in many (a delete every 5 ms was one commit in
   * seven of the whole job path when every job's messages passed through the outbox). The rows
   * are only waste until then; the relay leaves rows younger than minAgeMs alone.
   */
  deleteBatchWaitMs?: number;
  /** A batch of this many ids is deleted at once, without waiting. Default 500. */
  deleteBatchSize?: number;
}

/**
 * Moves outbox rows to the broker: claim a batch (SKIP LOCKED, so replicas share the work),
 * publish with confirms, delete what was confirmed, all in one transaction. A crash between
 * confirm and commit re-sends the batch: consumers are idempotent, loss is not possible.
 */
export class OutboxRelay {
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;
  private readonly sentRows: SentRowDeleter;

  constructor(
    private readonly deps: OutboxRelayDeps,
    private readonly options: OutboxRelayOptions,
  ) {
    this.sentRows = new SentRowDeleter(deps, {
      waitMs: options.deleteBatchWaitMs ?? 50,
      maxIds: options.deleteBatchSize ?? 500,
    });
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.running;
    await this.sentRows.flush();
  }

  /**
   * Sends messages just committed by the caller and has their rows deleted: the fast path after
   * a commit. Resolves once every publish is confirmed or has failed (callers rely on that order,
   * e.g. a job's `running` event goes out before its `succeeded` one), not after the delete,
   * which is batched. Whatever fails stays in the outbox for the polling relay; this never throws.
   */
  async sendNow(messages: OutboxMessage[]): Promise<void> {
    if (messages.length === 0 || !this.deps.isReady()) return;
    const results = await Promise.allSettled(messages.map((m) => this.deps.publish(m)));
    this.sentRows.add(messages.filter((_, i) => results[i]!.status === 'fulfilled').map((m) => m.id));
  }

  /** Relays until the outbox is empty or a batch fails; returns how many messages went out. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const { sent, failed } = await this.relayBatch();
      total += sent;
      if (failed > 0 || sent < this.options.batchSize) return total;
    }
  }

  private async run(): Promise<void> {
    const { signal } = this.stopController;
    while (!signal.aborted) {
      if (this.deps.isReady()) {
        try {
          await this.drain();
        } catch (error) {
          this.deps.log.warn('outbox relay pass failed', { error: errorMessage(error) });
        }
      }
      await sleep(this.options.pollMs, signal);
    }
  }

  private relayBatch(): Promise<{ sent: number; failed: number }> {
    return this.deps.db.transaction().execute(async (trx) => {
      const batch = await claimOutboxBatch(trx, this.options.batchSize, this.options.minAgeMs);
      if (batch.length === 0) return { sent: 0, failed: 0 };
      const results = await Promise.allSettled(batch.map((m) => this.deps.publish(m)));
      const confirmed = batch.filter((_, i) => results[i]!.status === 'fulfilled').map((m) => m.id);
      const failed = batch.filter((_, i) => results[i]!.status === 'rejected').map((m) => m.id);
      await deleteOutboxMessages(trx, confirmed);
      const firstFailure = results.find((r) => r.status === 'rejected');
      await markOutboxFailures(trx, failed, firstFailure ? errorMessage(firstFailure.reason) : '');
      if (batch.length > 0)
        this.deps.log.info('outbox messages relayed', { messages: confirmed.length, failed: failed.length });
      return { sent: confirmed.length, failed: failed.length };
    });
  }
}

/**
 * Deletes the rows of confirmed messages in batches: ids collected for `waitMs` (or until
 * `maxIds`) go in one DELETE, committed with synchronous_commit off, so the many sendNow
 * calls of a busy service cost one statement and no WAL fsync wait between them. That is safe
 * here: a delete lost to a crash (or to a failed batch) only leaves a row the polling relay sends
 * again, a duplicate publish, which consumers tolerate (they are idempotent by message/event id).
 */
class SentRowDeleter {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly deps: Pick<OutboxRelayDeps, 'db' | 'log'>,
    private readonly options: { waitMs: number; maxIds: number },
  ) {}

  add(ids: string[]): void {
    if (ids.length === 0) return;
    this.pending.push(...ids);
    if (this.pending.length >= this.options.maxIds) this.deleteNow();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.deleteNow(), this.options.waitMs);
      // A pending delete must not keep a process alive; losing it only means a duplicate publish.
      this.timer.unref();
    }
  }

  /** Deletes what is pending and waits for every delete under way. */
  async flush(): Promise<void> {
    this.deleteNow();
    await Promise.all(this.inFlight);
  }

  private deleteNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const ids = this.pending;
    this.pending = [];
    const deleting = this.delete(ids).finally(() => this.inFlight.delete(deleting));
    this.inFlight.add(deleting);
  }

  private async delete(ids: string[]): Promise<void> {
    try {
      // One simple-protocol query of two statements: PostgreSQL runs it as one implicit
      // transaction, so SET LOCAL applies to the delete, in one round trip instead of four
      // (BEGIN, SET, DELETE, COMMIT). The ids are bigints this process read back from the
      // table; anything else is dropped rather than spliced into SQL.
      const list = ids.filter((id) => /^\d{1,19}$/.test(id)).join(',');
      await sql
        .raw(`set local synchronous_commit = off; delete from outbox where id = any('{${list}}'::bigint[])`)
        .execute(this.deps.db);
    } catch (error) {
      this.deps.log.warn('could not delete sent outbox rows; the relay will send them again', {
        rows: ids.length,
        error: errorMessage(error),
      });
    }
  }
}
