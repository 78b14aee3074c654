import { publishOutgoing, type Broker } from '@conveyor/broker';
import type { Database, Kysely } from '@conveyor/database';
import { errorMessage, sleep, type Logger } from '@conveyor/platform';
import { claimOutboxBatch, deleteOutboxMessages, markOutboxFailures } from '../adapters/outbox.repository.js';

export interface OutboxRelayOptions {
  pollMs: number;
  batchSize: number;
  /** Confirm deadline for one batch; a row is deleted only once its publish is confirmed. */
  publishTimeoutMs: number;
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
    private readonly deps: { db: Kysely<Database>; broker: Broker; log: Logger },
    private readonly options: OutboxRelayOptions,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.running;
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
      if (this.deps.broker.connected) {
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
      const batch = await claimOutboxBatch(trx, this.options.batchSize);
      if (batch.length === 0) return { sent: 0, failed: 0 };
      const results = await Promise.allSettled(
        batch.map((m) => publishOutgoing(this.deps.broker, m, { timeoutMs: this.options.publishTimeoutMs })),
      );
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
