import type { ConsumerHandle } from '@conveyor/broker';
import type { PauseWatcher } from '@conveyor/jobs';
import { errorMessage, type Logger } from '@conveyor/platform';

/**
 * A consumer of one kind's queue that stops while the kind is paused: its AMQP consumer is
 * cancelled (deliveries under way finish and are acked as usual; those not started go back to
 * the queue) and opened again on resume. Changes apply one after another, in order.
 */
export class PausableConsumer {
  private handle: ConsumerHandle | undefined;
  private applying: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly kind: string,
    private readonly open: () => ConsumerHandle,
    private readonly pauses: PauseWatcher,
    private readonly log: Logger,
  ) {
    pauses.subscribe((paused) => this.apply(!paused.has(kind)));
  }

  /** Consumes unless the kind is paused now. */
  start(): void {
    this.apply(!this.pauses.isPaused(this.kind));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.applying;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.cancel();
  }

  private apply(consume: boolean): void {
    this.applying = this.applying.then(async () => {
      if (this.stopped) return;
      try {
        if (consume && !this.handle) {
          this.handle = this.open();
          this.log.info('consuming kind', { kind: this.kind });
        } else if (!consume && this.handle) {
          const handle = this.handle;
          this.handle = undefined;
          this.log.info('kind paused: consumer cancelled', { kind: this.kind });
          await handle.cancel();
        }
      } catch (error) {
        this.log.error('could not apply a pause or resume', { kind: this.kind, error: errorMessage(error) });
      }
    });
  }
}
