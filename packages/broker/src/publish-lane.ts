import type { ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { backoffDelay, errorMessage, sleep, type Logger } from '@conveyor/platform';
import { PublishRejectedError, UnroutableMessageError } from './errors.js';
import { framedChannel, type FramedChannel } from './framed-channel.js';
import { encodePublishRun, FrameEncodingError } from './publish-frames.js';

/** The AMQP properties a message carries besides persistence (see PublishOptions in broker.ts). */
export interface PublishProperties {
  messageId: string;
  headers?: Record<string, unknown>;
}

/** A message waiting for a channel or for its confirm. */
export interface PendingPublish {
  exchange: string;
  routingKey: string;
  body: Buffer;
  properties: PublishProperties;
  /** Called once, when the broker confirms (no error) or the publish is given up on. */
  done(error?: Error): void;
  returned: boolean;
  settled: boolean;
  timer: NodeJS.Timeout | undefined;
  /** The lane that holds it, so that giving up on it also forgets it there. */
  lane: PublishLane | undefined;
}

export interface PublishLaneEvents {
  confirmed(pending: PendingPublish): void;
  failed(reason: 'nack' | 'unroutable'): void;
}

/** Every message is persistent and must be routable (mandatory). */
const MESSAGE_DEFAULTS = { mandatory: true, deliveryMode: 2 } as const;

/**
 * Messages encoded into one buffer at most: a callback's share of a lane is 25, a relay batch a
 * few hundred; bounded so that one write never holds megabytes past the socket's back-pressure.
 */
const MAX_RUN = 512;

/** Runs of frames waiting for the socket beyond which the lane stops encoding (see FramedChannel.backlog). */
const MAX_BACKLOG = 8;
/** How soon a lane held back by the backlog looks again: amqplib gives no event when its stream empties. */
const BACKLOG_RECHECK_MS = 1;

/** The framed path encodes no headers table but an empty one (as amqplib sends for none). */
function framable(pending: PendingPublish): boolean {
  const { headers } = pending.properties;
  if (headers === undefined) return true;
  return Object.keys(headers).length === 0;
}

/** A publish not yet queued on a lane; `done` is called once with its outcome. */
export function pendingPublish(
  exchange: string,
  routingKey: string,
  body: Buffer,
  properties: PublishProperties,
  done: (error?: Error) => void,
): PendingPublish {
  return {
    exchange,
    routingKey,
    body,
    properties,
    done,
    returned: false,
    settled: false,
    timer: undefined,
    lane: undefined,
  };
}

/** Settles a publish once: later confirms, nacks or deadlines of the same message are ignored. */
export function settlePublish(pending: PendingPublish, error?: Error): void {
  if (pending.settled) return;
  pending.settled = true;
  clearTimeout(pending.timer);
  pending.lane?.forget(pending);
  pending.done(error);
}

/**
 * The lane of message `index` of a batch of `length` spread over `lanes`: contiguous shares as
 * equal as they can be, so each channel's part keeps the batch's order and no lane gets two
 * messages more than another.
 */
export function laneOf(index: number, length: number, lanes: number): number {
  return Math.floor((index * lanes) / length);
}

/**
 * One confirm channel and the messages waiting for it or for its confirms. The broker keeps
 * several: RabbitMQ lets one channel have at most `quorum_commands_soft_limit` (32 by default)
 * commands outstanding to a quorum queue, then stops reading that channel until the queue has
 * written them, so a burst of 200 messages on one channel takes about seven WAL syncs in turn.
 * Spread over lanes, the same burst is written in one. Order holds within a lane only.
 *
 * Unconfirmed messages of a channel that dies go back to the front of this lane's queue and are
 * re-sent when the lane has a channel again; a server-closed channel is re-opened here, a lost
 * connection is the broker's to recover (it attaches a fresh channel).
 */
export class PublishLane {
  private channel: ConfirmChannel | undefined;
  /** The channel's frame writer; undefined when amqplib's internals are not there. */
  private framing: FramedChannel | undefined;
  private connection: ChannelModel | undefined;
  private readonly queued: PendingPublish[] = [];
  private readonly inFlight = new Set<PendingPublish>();
  private flushing = false;
  private recheck: NodeJS.Timeout | undefined;
  private readonly stopped = new AbortController();

  constructor(
    private readonly index: number,
    private readonly log: Logger,
    private readonly events: PublishLaneEvents,
  ) {}

  get open(): boolean {
    return this.channel !== undefined;
  }

  /** Nothing waiting for a channel or a confirm. */
  get drained(): boolean {
    return this.queued.length === 0 && this.inFlight.size === 0;
  }

  /** Queues messages together, so that they leave in one run of frames. */
  enqueue(pendings: readonly PendingPublish[]): void {
    for (const pending of pendings) {
      pending.lane = this;
      this.queued.push(pending);
    }
    this.flush();
  }

  forget(pending: PendingPublish): void {
    this.inFlight.delete(pending);
  }

  /** Every message this lane still holds (for giving up on them all at shutdown). */
  held(): PendingPublish[] {
    return [...this.queued, ...this.inFlight];
  }

  async attach(connection: ChannelModel): Promise<void> {
    this.connection = connection;
    const channel = await connection.createConfirmChannel();
    channel.on('error', (error: Error) =>
      this.log.warn('publish channel error', { lane: this.index, error: error.message }),
    );
    channel.on('return', (message: ConsumeMessage) => {
      for (const pending of this.inFlight)
        if (pending.properties.messageId === message.properties.messageId) pending.returned = true;
    });
    channel.on('drain', () => this.flush());
    channel.once('close', () => {
      if (this.channel === channel) {
        this.channel = undefined;
        this.framing = undefined;
      }
      this.requeueInFlight();
      // The server closes a channel on a channel-level error (e.g. a missing exchange); the
      // connection lives on, so re-open the channel here rather than waiting for a reconnect.
      if (!this.stopped.signal.aborted && this.connection === connection) void this.reattach(connection);
    });
    this.channel = channel;
    this.framing = framedChannel(channel);
    this.flush();
  }

  /** The connection is gone: its channel with it. */
  detach(): void {
    this.connection = undefined;
    this.channel = undefined;
    this.framing = undefined;
    this.requeueInFlight();
  }

  stop(): void {
    this.stopped.abort();
    clearTimeout(this.recheck);
    this.recheck = undefined;
    this.detach();
  }

  private async reattach(connection: ChannelModel): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      await sleep(backoffDelay(attempt, 100, 5_000), this.stopped.signal);
      if (this.stopped.signal.aborted || this.connection !== connection) return;
      try {
        await this.attach(connection);
        this.log.info('publish channel re-opened', { lane: this.index, attempt });
        return;
      } catch (error) {
        this.log.warn('re-opening publish channel failed', {
          lane: this.index,
          attempt,
          error: errorMessage(error),
        });
      }
    }
  }

  /** Messages sent but not confirmed on a channel that died go back to the front of the queue. */
  private requeueInFlight(): void {
    const unconfirmed = [...this.inFlight].filter((p) => !p.settled);
    this.inFlight.clear();
    for (const p of unconfirmed) p.returned = false;
    this.queued.unshift(...unconfirmed);
  }

  private flush(): void {
    const channel = this.channel;
    if (!channel || this.flushing) return;
    this.flushing = true;
    try {
      while (this.queued.length > 0 && this.channel === channel) {
        if (this.framing && this.framing.backlog() >= MAX_BACKLOG) {
          this.recheckLater();
          break;
        }
        const { run, framed } = this.takeRun();
        if (run.length === 0) break;
        for (const pending of run) this.inFlight.add(pending);
        const writable = framed ? this.sendFramed(channel, run) : this.sendOne(channel, run[0]!);
        // Respect the socket's back-pressure: resume on 'drain'.
        if (!writable) break;
      }
    } catch (error) {
      this.log.warn('publish failed on the channel, will re-send', {
        lane: this.index,
        error: errorMessage(error),
      });
    } finally {
      this.flushing = false;
    }
  }

  private recheckLater(): void {
    if (this.recheck || this.stopped.signal.aborted) return;
    this.recheck = setTimeout(() => {
      this.recheck = undefined;
      this.flush();
    }, BACKLOG_RECHECK_MS);
  }

  /**
   * The next messages to send: a run of up to MAX_RUN that go out as pre-encoded frames, or a
   * single one that needs amqplib's own publish (headers to encode, or no framed channel).
   */
  private takeRun(): { run: PendingPublish[]; framed: boolean } {
    const framing = this.framing?.usable() === true;
    const run: PendingPublish[] = [];
    while (this.queued.length > 0 && run.length < MAX_RUN) {
      const next = this.queued[0]!;
      if (next.settled) {
        this.queued.shift();
        continue;
      }
      if (!framing || !framable(next)) {
        if (run.length > 0) break;
        this.queued.shift();
        return { run: [next], framed: false };
      }
      run.push(this.queued.shift()!);
    }
    return { run, framed: true };
  }

  /** A run as one buffer of frames; a run the encoder refuses goes message by message instead. */
  private sendFramed(channel: ConfirmChannel, run: PendingPublish[]): boolean {
    const framing = this.framing!;
    let frames: Buffer;
    try {
      frames = encodePublishRun(framing.number, run, MESSAGE_DEFAULTS, framing.frameMax);
    } catch (error) {
      if (!(error instanceof FrameEncodingError)) throw error;
      return run.map((pending) => this.sendOne(channel, pending)).every(Boolean);
    }
    return framing.write(
      frames,
      run.map((pending) => (error: unknown) => this.onConfirm(channel, pending, error)),
    );
  }

  private sendOne(channel: ConfirmChannel, pending: PendingPublish): boolean {
    const { messageId, headers } = pending.properties;
    try {
      return channel.publish(
        pending.exchange,
        pending.routingKey,
        pending.body,
        { ...MESSAGE_DEFAULTS, messageId, headers },
        (error) => this.onConfirm(channel, pending, error),
      );
    } catch (error) {
      // amqplib refuses a field it cannot encode with a TypeError: that message can never be
      // sent, so it fails alone. Anything else is the channel's (closed): re-sent later.
      if (!(error instanceof TypeError)) throw error;
      settlePublish(pending, error);
      return true;
    }
  }

  private onConfirm(channel: ConfirmChannel, pending: PendingPublish, error: unknown): void {
    if (pending.settled) return;
    if (error) {
      // amqplib fails every unconfirmed publish just before a closing channel emits 'close', in
      // the same tick. Decide on the next turn: by then a closed channel has put the message
      // back in the queue to be re-sent, and only a nack from a live channel is left, which is final.
      setImmediate(() => {
        if (pending.settled || !this.inFlight.has(pending) || this.channel !== channel) return;
        this.events.failed('nack');
        settlePublish(pending, new PublishRejectedError(pending.exchange, pending.routingKey));
      });
      return;
    }
    if (pending.returned) {
      this.events.failed('unroutable');
      settlePublish(pending, new UnroutableMessageError(pending.exchange, pending.routingKey));
      return;
    }
    this.events.confirmed(pending);
    settlePublish(pending);
  }
}
