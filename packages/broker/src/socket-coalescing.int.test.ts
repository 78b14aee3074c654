import amqp, { type ChannelModel } from 'amqplib';
import { TEST_AMQP_URL } from '@conveyor/testkit';
import { coalesceSocketWrites } from './socket-coalescing.js';

interface Muxer {
  out: { cork(): void; uncork(): void; writableCorked: number; write(chunk: Buffer): boolean };
  _readIncoming(): void;
}

const muxerOf = (connection: ChannelModel) =>
  (connection as unknown as { connection: { muxer: Muxer } }).connection.muxer;

describe('coalesceSocketWrites', () => {
  let connection: ChannelModel;

  beforeEach(async () => {
    connection = await amqp.connect(TEST_AMQP_URL);
  });

  afterEach(async () => {
    await connection.close();
  });

  it('finds the multiplexer of the amqplib in use (fails loudly if an upgrade moves it)', () => {
    expect(coalesceSocketWrites(connection)).toBe(true);
  });

  it('holds the socket corked for the whole multiplexer pass, then sends it', () => {
    const muxer = muxerOf(connection);
    const corkedDuringPass: number[] = [];
    const originalPass = muxer._readIncoming.bind(muxer);
    muxer._readIncoming = () => {
      corkedDuringPass.push(muxer.out.writableCorked);
      originalPass();
    };
    coalesceSocketWrites(connection);
    muxer._readIncoming();
    expect(corkedDuringPass).toEqual([1]);
    expect(muxer.out.writableCorked).toBe(0);
  });

  it('uncorks even when the pass throws', () => {
    const muxer = muxerOf(connection);
    muxer._readIncoming = () => {
      throw new Error('boom');
    };
    coalesceSocketWrites(connection);
    expect(() => muxer._readIncoming()).toThrow('boom');
    expect(muxer.out.writableCorked).toBe(0);
  });

  it('publishes and confirms through a coalesced connection', async () => {
    coalesceSocketWrites(connection);
    const channel = await connection.createConfirmChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await Promise.all(
      Array.from(
        { length: 300 },
        (_, i) =>
          new Promise<void>((resolve, reject) =>
            channel.sendToQueue(queue, Buffer.from(String(i)), {}, (error) =>
              error ? reject(error) : resolve(),
            ),
          ),
      ),
    );
    expect((await channel.checkQueue(queue)).messageCount).toBe(300);
    await channel.close();
  });

  it('leaves a connection of an unknown shape alone', () => {
    expect(coalesceSocketWrites({} as ChannelModel)).toBe(false);
  });
});
