/**
 * The acknowledgements of one consumer channel, held back so that many go out as one.
 *
 * Every ack of a quorum-queue message is a command through the queue's Raft log, as costly to
 * the queue as the publish itself, and the queue serves publishers and consumers in one process.
 * One `basic.ack` with `multiple` settles every delivery up to its tag in a single command, but
 * only deliveries that are all finished may be covered. Handlers finish out of order (an object
 * check takes 0.3–4.3 s), so a finished delivery waits here until every earlier one has finished
 * too, or until it has waited `holdMs`, whichever comes first; then it is acknowledged alone, so a
 * slow delivery never holds the others back for long.
 *
 * Pure bookkeeping: it decides, the caller sends. Delivery tags rise with each delivery on a channel.
 */
export class AckWindow<M> {
  /** Deliveries not yet settled at the broker, in delivery order (from `head`). */
  private readonly order: Entry<M>[] = [];
  private head = 0;
  /** Finished deliveries in the order they finished, to find the overdue ones. */
  private readonly finishOrder: Entry<M>[] = [];
  private finishOrderHead = 0;
  private readonly byTag = new Map<number, Entry<M>>();

  constructor(private readonly holdMs: number) {}

  /** Deliveries not yet settled at the broker (running or held). */
  get unsettled(): number {
    return this.byTag.size;
  }

  delivered(tag: number, message: M): void {
    const entry: Entry<M> = { tag, message, state: 'running', finishedAt: 0 };
    this.order.push(entry);
    this.byTag.set(tag, entry);
  }

  /** The handler is done and the message may be acknowledged. */
  finish(tag: number, now: number): void {
    const entry = this.byTag.get(tag);
    if (!entry || entry.state !== 'running') return;
    entry.state = 'held';
    entry.finishedAt = now;
    this.finishOrder.push(entry);
  }

  /** Settled without this window (a nack, sent at once): it no longer blocks the deliveries after it. */
  settledAlone(tag: number): void {
    const entry = this.byTag.get(tag);
    if (!entry) return;
    entry.state = 'settled';
    this.byTag.delete(tag);
  }

  /**
   * What to send now: at most one message to ack with `multiple` (the last held delivery of the
   * leading run of finished ones), and every held delivery that has waited `holdMs`, to ack alone.
   */
  take(now: number): { multiple: M | undefined; alone: M[] } {
    let multiple: M | undefined;
    while (this.head < this.order.length && this.order[this.head]!.state !== 'running') {
      const entry = this.order[this.head]!;
      this.head += 1;
      if (entry.state === 'held') {
        multiple = entry.message;
        this.settle(entry);
      }
    }
    const alone: M[] = [];
    while (this.finishOrderHead < this.finishOrder.length) {
      const entry = this.finishOrder[this.finishOrderHead]!;
      if (entry.state === 'held') {
        if (now - entry.finishedAt < this.holdMs) break;
        alone.push(entry.message);
        this.settle(entry);
      }
      this.finishOrderHead += 1;
    }
    this.compact();
    return { multiple, alone };
  }

  /** Every held delivery, to ack alone before the channel closes (nothing finished is redelivered). */
  takeAllHeld(): M[] {
    const held = this.finishOrder.slice(this.finishOrderHead).filter((entry) => entry.state === 'held');
    for (const entry of held) this.settle(entry);
    this.finishOrderHead = this.finishOrder.length;
    this.compact();
    return held.map((entry) => entry.message);
  }

  /** When the oldest held delivery becomes overdue, or undefined when none is held. */
  nextDueAt(): number | undefined {
    for (let index = this.finishOrderHead; index < this.finishOrder.length; index++) {
      const entry = this.finishOrder[index]!;
      if (entry.state === 'held') return entry.finishedAt + this.holdMs;
    }
    return undefined;
  }

  private settle(entry: Entry<M>): void {
    entry.state = 'settled';
    this.byTag.delete(entry.tag);
  }

  /** Drops consumed slots now and then, so the arrays do not grow with the channel's lifetime. */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order.splice(0, this.head);
      this.head = 0;
    }
    if (this.finishOrderHead > 1024 && this.finishOrderHead * 2 > this.finishOrder.length) {
      this.finishOrder.splice(0, this.finishOrderHead);
      this.finishOrderHead = 0;
    }
  }
}

interface Entry<M> {
  tag: number;
  message: M;
  state: 'running' | 'held' | 'settled';
  finishedAt: number;
}
