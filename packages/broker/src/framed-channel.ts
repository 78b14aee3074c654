import type { ConfirmChannel } from 'amqplib';

/** The parts of amqplib's channel that its own `publish` uses: internal, so checked before use. */
interface ChannelInternals {
  ch: number;
  connection: {
    channels: (
      | {
          channel: unknown;
          buffer: { write(chunk: Buffer): boolean; readableLength?: number; writableLength?: number };
        }
      | null
      | undefined
    )[];
    frameMax: number;
    sentSinceLastCheck: boolean;
  };
  pushConfirmCallback(callback: (error: unknown) => void): void;
}

/** Writes publishes already encoded as frames (see publish-frames.ts) onto one confirm channel. */
export interface FramedChannel {
  readonly number: number;
  readonly frameMax: number;
  /**
   * False when the channel is closing or closed: amqplib's own publish then raises the reason.
   * Checked before every write, since amqplib swaps the methods of a closing channel.
   */
  usable(): boolean;
  /**
   * Writes waiting in the channel's stream for the socket. amqplib's stream counts writes, not
   * bytes, and signals back-pressure only after 1,024 of them: a thousand runs of frames. The lane
   * stops encoding while a few are waiting, so a stalled socket holds a bounded number of messages,
   * and messages given up on meanwhile are dropped from the queue instead of sent late.
   */
  backlog(): number;
  /**
   * Writes the frames of `confirmCallbacks.length` publishes and registers a confirm callback for
   * each, in the order of the frames, as amqplib's publish does one at a time. Returns what the
   * channel's stream returns: false asks the writer to wait for 'drain'.
   */
  write(frames: Buffer, confirmCallbacks: readonly ((error: unknown) => void)[]): boolean;
}

/**
 * A FramedChannel over an amqplib confirm channel, or undefined when this amqplib does not have
 * the internals (its publish path is then used as it is). The frames go into the same per-channel
 * stream amqplib's publish writes to, so they interleave with its other frames in order, and
 * confirms come back through amqplib's own bookkeeping (delivery tags count publishes in order).
 */
export function framedChannel(channel: ConfirmChannel): FramedChannel | undefined {
  const internals = channel as unknown as Partial<ChannelInternals>;
  const { ch, connection } = internals;
  if (
    typeof ch !== 'number' ||
    typeof internals.pushConfirmCallback !== 'function' ||
    typeof connection?.frameMax !== 'number' ||
    !Array.isArray(connection.channels) ||
    typeof connection.channels[ch]?.buffer?.write !== 'function'
  ) {
    return undefined;
  }
  const usable = () => connection.channels[ch]?.channel === channel && !Object.hasOwn(channel, 'sendMessage');
  return {
    number: ch,
    frameMax: connection.frameMax,
    usable,
    backlog() {
      const buffer = connection.channels[ch]?.buffer;
      return (buffer?.readableLength ?? 0) + (buffer?.writableLength ?? 0);
    },
    write(frames, confirmCallbacks) {
      const writable = connection.channels[ch]!.buffer.write(frames);
      // Outgoing traffic: the heartbeat need not send one of its own.
      connection.sentSinceLastCheck = true;
      for (const callback of confirmCallbacks) internals.pushConfirmCallback!.call(channel, callback);
      return writable;
    },
  };
}
