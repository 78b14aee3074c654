import type { ChannelModel } from 'amqplib';

interface AmqplibMuxer {
  out: { cork(): void; uncork(): void };
  _readIncoming(): void;
}

/**
 * amqplib's multiplexer writes every frame group (a publish, an ack) to the socket on its own,
 * one write syscall each; at tens of thousands of publishes per second that was a tenth of the
 * producer's CPU, and it hands RabbitMQ as many tiny TCP reads. Corking the socket around one
 * multiplexer pass sends everything that pass collected in a single writev. Internal API, so
 * checked before use: without it amqplib simply writes as before (and this returns false).
 */
export function coalesceSocketWrites(connection: ChannelModel): boolean {
  const muxer = (connection as unknown as { connection?: { muxer?: Partial<AmqplibMuxer> } }).connection
    ?.muxer;
  if (
    typeof muxer?._readIncoming !== 'function' ||
    typeof muxer.out?.cork !== 'function' ||
    typeof muxer.out.uncork !== 'function'
  )
    return false;
  const readIncoming = muxer._readIncoming.bind(muxer);
  const out = muxer.out;
  muxer._readIncoming = () => {
    out.cork();
    try {
      readIncoming();
    } finally {
      out.uncork();
    }
  };
  return true;
}
