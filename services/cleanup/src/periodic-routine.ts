import { errorMessage, sleep, type Logger } from '@conveyor/platform';

/**
 * Runs `pass` every `intervalMs` (measured start to start) until stopped. A failing pass is
 * logged and the next one runs on schedule: a database outage only delays the routine.
 */
export class PeriodicRoutine {
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly pass: (signal: AbortSignal) => Promise<void>,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const { signal } = this.stopController;
    while (!signal.aborted) {
      const startedAt = Date.now();
      try {
        await this.pass(signal);
      } catch (error) {
        this.log.warn('routine pass failed', { routine: this.name, error: errorMessage(error) });
      }
      await sleep(Math.max(0, this.intervalMs - (Date.now() - startedAt)), signal);
    }
  }
}

/** Repeats a batched operation until a batch comes back short (or the signal aborts); returns the total. */
export async function untilExhausted(
  batch: () => Promise<number>,
  batchSize: number,
  signal?: AbortSignal,
): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await batch();
    total += done;
    if (done < batchSize || signal?.aborted) return total;
  }
}
