import { errorMessage, sleep, type Logger } from '@conveyor/platform';

export interface ObjectTtlRoutineOptions {
  intervalMs: number;
  ttlMs: number;
  batchSize: number;
}

type DeleteStale = (ttlMs: number, limit: number) => Promise<number>;

/** Every interval, deletes stale objects batch by batch until none are left. */
export class ObjectTtlRoutine {
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly deleteStale: DeleteStale,
    private readonly log: Logger,
    private readonly options: ObjectTtlRoutineOptions,
    private readonly onPass?: (deleted: number) => void,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.running;
  }

  /** One pass: returns how many objects were deleted. */
  async runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted = await this.deleteStale(this.options.ttlMs, this.options.batchSize);
      total += deleted;
      if (deleted < this.options.batchSize || this.stopController.signal.aborted) return total;
    }
  }

  private async run(): Promise<void> {
    const { signal } = this.stopController;
    while (!signal.aborted) {
      const startedAt = Date.now();
      try {
        const deleted = await this.runOnce();
        this.onPass?.(deleted);
        if (deleted > 0) this.log.info('stale objects deleted', { deleted, ms: Date.now() - startedAt });
      } catch (error) {
        this.log.warn('stale object cleanup failed', { error: errorMessage(error) });
      }
      await sleep(Math.max(0, this.options.intervalMs - (Date.now() - startedAt)), signal);
    }
  }
}
