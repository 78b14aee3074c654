import { errorMessage, sleep, type Logger } from '@conveyor/platform';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { claimOutboxBatch, deleteOutboxMessages, markOutboxFailures, type OutboxMessage } from './outbox.repository.js';

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
}

/**
 * Moves outbox rows to the broker: claim a batch (SKIP LOCKED, so replicas share the work),
 * publish with confirms, delete what was confirmed, all in one transaction. A crash between
 * confirm and commit re-sends the batch: consumers are idempotent, loss is not possible.
 */
export class OutboxRelay {
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly deps: OutboxRelayDeps,
    private readonly options: OutboxRelayOptions,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.running;
  }

  /**
   * Sends messages just committed by the caller and deletes their rows: the fast path after a
   * commit. Whatever fails stays in the outbox for the polling relay; this never throws.
   */
  async sendNow(messages: OutboxMessage[]): Promise<void> {
    if (messages.length === 0 || !this.deps.isReady()) return;
    const results = await Promise.allSettled(messages.map((m) => this.deps.publish(m)));
    const confirmed = messages.filter((_, i) => results[i]!.status === 'fulfilled').map((m) => m.id);
    try {
      await deleteOutboxMessages(this.deps.db, confirmed);
    } catch (error) {
      this.deps.log.warn('could not delete sent outbox rows; the relay will send them again', { error: errorMessage(error) });
    }
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
      if (batch.length > 0) this.deps.log.info('outbox messages relayed', { messages: confirmed.length, failed: failed.length });
      return { sent: confirmed.length, failed: failed.length };
    });
  }
}
