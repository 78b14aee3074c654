import type { Database, Kysely } from '@conveyor/database';
import { AppError, backoffDelay, errorMessage, sleep, type Logger } from '@conveyor/platform';
import { latestPerObject, type LastSeen } from './last-seen.js';
import { upsertLastSeen } from './object.repository.js';

interface PendingRow extends LastSeen {
  resolve(): void;
  reject(error: Error): void;
}

export interface LastSeenWriterOptions {
  batchSize: number;
  batchWaitMs: number;
}

/**
 * Batches last_seen upserts: a row waits at most `batchWaitMs` for others to join it, and its
 * promise resolves only after the batch's commit, so the caller acks after the commit. When
 * PostgreSQL is unreachable the batch is retried with backoff until it commits: the messages
 * stay unacknowledged meanwhile, the prefetch fills, and consumption pauses by itself.
 */
export class LastSeenWriter {
  private pending: PendingRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing = false;
  private readonly stopController = new AbortController();

  constructor(
    private readonly deps: { db: Kysely<Database>; log: Logger },
    private readonly options: LastSeenWriterOptions,
  ) {}

  record(row: LastSeen, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      // Not yet in a batch when aborted: drop it (the message is redelivered). In a batch: the batch decides.
      const onAbort = () => {
        const index = this.pending.indexOf(pendingRow);
        if (index < 0) return;
        this.pending.splice(index, 1);
        reject(new AppError('aborted', 'write abandoned on shutdown'));
      };
      const settled = () => signal?.removeEventListener('abort', onAbort);
      const pendingRow: PendingRow = {
        ...row,
        resolve: () => {
          settled();
          resolve();
        },
        reject: (error) => {
          settled();
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.push(pendingRow);
      this.schedule();
    });
  }

  /** Stops retrying; rows still waiting are rejected (their messages get redelivered). */
  stop(): void {
    this.stopController.abort();
    clearTimeout(this.timer);
    for (const row of this.pending.splice(0)) row.reject(new AppError('aborted', 'writer stopped'));
  }

  private schedule(): void {
    if (this.writing) return;
    if (this.pending.length >= this.options.batchSize) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.writeBatches();
    } else {
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        void this.writeBatches();
      }, this.options.batchWaitMs);
    }
  }

  private async writeBatches(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.pending.length > 0 && !this.stopController.signal.aborted) {
        const batch = this.pending.splice(0, this.options.batchSize);
        await this.writeUntilCommitted(batch);
      }
    } finally {
      this.writing = false;
      if (this.pending.length > 0) this.schedule();
    }
  }

  private async writeUntilCommitted(batch: PendingRow[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await upsertLastSeen(this.deps.db, latestPerObject(batch));
        for (const row of batch) row.resolve();
        return;
      } catch (error) {
        if (this.stopController.signal.aborted) {
          for (const row of batch) row.reject(new AppError('aborted', 'writer stopped', { cause: error }));
          return;
        }
        const retryInMs = backoffDelay(attempt, 100, 5_000);
        this.deps.log.warn('last_seen write failed, holding the batch and retrying', {
          rows: batch.length,
          attempt: attempt + 1,
          retryInMs,
          error: errorMessage(error),
        });
        await sleep(retryInMs, this.stopController.signal);
      }
    }
  }
}
