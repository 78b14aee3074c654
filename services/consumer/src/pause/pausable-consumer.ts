import type { MessageConsumerHandle } from '@conveyor/broker';
import { errorMessage, type Logger } from '@conveyor/platform';

/** What a PausableConsumer needs to know of the paused kinds (a PauseWatcher). */
export interface PauseSignal {
  isPaused(kind: string): boolean;
  subscribe(subscriber: (paused: ReadonlySet<string>) => void): void;
}

/**
 * A consumer of one kind's queue that stops while the kind is paused: its AMQP consumer is
 * cancelled and drained (work under way finishes and is acked as usual; deliveries not started
 * go back to the queue) and opened again on resume. Changes apply one after another, in order.
 */
export class PausableConsumer {
  private handle: MessageConsumerHandle | undefined;
  /** Paused consumers whose work under way is finishing: a stop cuts it short to the shutdown grace. */
  private readonly draining = new Set<MessageConsumerHandle>();
  private applying: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly kind: string,
    private readonly open: () => MessageConsumerHandle,
    private readonly pauses: PauseSignal,
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
    const handles = [...this.draining, ...(this.handle ? [this.handle] : [])];
    this.handle = undefined;
    await Promise.all(handles.map((handle) => handle.cancel()));
    await this.applying;
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
          this.log.info('kind paused: consumer cancelled, work under way finishing', { kind: this.kind });
          this.draining.add(handle);
          try {
            await handle.drain();
          } finally {
            this.draining.delete(handle);
          }
        }
      } catch (error) {
        this.log.error('could not apply a pause or resume', { kind: this.kind, error: errorMessage(error) });
      }
    });
  }
}
