import type { Channel, ConsumeMessage } from 'amqplib';
import { errorMessage, type Logger } from '@conveyor/platform';
import { AckWindow } from './ack-window.js';

/** Acks held back this long at most are sent together: those finished in one turn of work share a flush. */
const FLUSH_DELAY_MS = 10;

/**
 * Sends one consumer channel's acks and nacks. With `holdMs` > 0 acks go through an AckWindow
 * (one `multiple` ack for a run of finished deliveries, a finished delivery waiting at most
 * `holdMs`); with 0 each ack goes out at once. Nacks always go out at once. Calls on a channel
 * that has closed are dropped: the broker redelivers those messages anyway.
 */
export class ChannelAcks {
  private readonly window: AckWindow<ConsumeMessage> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;

  constructor(
    private readonly channel: Channel,
    holdMs: number,
    private readonly log: Logger,
  ) {
    this.window = holdMs > 0 ? new AckWindow(holdMs) : undefined;
  }

  delivered(message: ConsumeMessage): void {
    this.window?.delivered(message.fields.deliveryTag, message);
  }

  ack(message: ConsumeMessage): void {
    if (!this.window) return this.send(() => this.channel.ack(message));
    this.window.finish(message.fields.deliveryTag, Date.now());
    this.flushIn(FLUSH_DELAY_MS);
  }

  nack(message: ConsumeMessage, requeue: boolean): void {
    this.window?.settledAlone(message.fields.deliveryTag);
    this.send(() => this.channel.nack(message, false, requeue));
    // A nack may end the run of finished deliveries before it.
    if (this.window) this.flushIn(FLUSH_DELAY_MS);
  }

  /** Sends every held ack now (before the channel is closed on purpose). */
  flushAll(): void {
    if (!this.window) return;
    this.flush();
    for (const message of this.window.takeAllHeld()) this.send(() => this.channel.ack(message));
  }

  /** The channel is gone: nothing more is sent on it. */
  dispose(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private flushIn(delayMs: number): void {
    const at = Date.now() + delayMs;
    if (this.closed || at >= this.timerAt) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.flush();
    }, delayMs);
  }

  private flush(): void {
    if (!this.window || this.closed) return;
    const now = Date.now();
    const { multiple, alone } = this.window.take(now);
    if (multiple) this.send(() => this.channel.ack(multiple, true));
    for (const message of alone) this.send(() => this.channel.ack(message));
    const dueAt = this.window.nextDueAt();
    if (dueAt !== undefined) this.flushIn(Math.max(0, dueAt - now));
  }

  private send(action: () => void): void {
    if (this.closed) return;
    try {
      action();
    } catch (error) {
      this.log.warn('ack/reject on a closed channel ignored', { error: errorMessage(error) });
    }
  }
}
