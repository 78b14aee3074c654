import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChannelModel } from 'amqplib';
import { silentLogger } from '@conveyor/platform';
import { waitFor } from '@conveyor/testkit';
import { laneOf, pendingPublish, PublishLane, settlePublish, type PendingPublish } from './publish-lane.js';

const shares = (length: number, lanes: number) => {
  const counts = new Array<number>(lanes).fill(0);
  for (let index = 0; index < length; index++) counts[laneOf(index, length, lanes)]! += 1;
  return counts;
};

describe('laneOf', () => {
  it('splits a callback of 200 messages into eight shares of 25', () => {
    expect(shares(200, 8)).toEqual([25, 25, 25, 25, 25, 25, 25, 25]);
  });

  it('keeps shares within one message of each other when the batch does not divide evenly', () => {
    for (const [length, lanes] of [
      [7, 3],
      [201, 8],
      [5, 8],
      [1, 4],
      [33, 32],
    ] as const) {
      const counts = shares(length, lanes);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  it('gives each lane a contiguous, ascending run of the batch', () => {
    const lanes = Array.from({ length: 50 }, (_, index) => laneOf(index, 50, 4));
    for (let index = 1; index < lanes.length; index++)
      expect(lanes[index]! - lanes[index - 1]!).toBeGreaterThanOrEqual(0);
    expect(lanes[0]).toBe(0);
    expect(lanes[49]).toBe(3);
  });

  it('puts everything on the one lane there is', () => {
    expect(shares(10, 1)).toEqual([10]);
  });
});

describe('PublishLane back-pressure on framed runs', () => {
  /** amqplib's per-channel stream as the lane sees it: counts writes; a stalled socket never reads them. */
  class StalledStream {
    readableLength = 0;
    writableLength = 0;
    readonly writes: Buffer[] = [];
    write(chunk: Buffer): boolean {
      this.writes.push(chunk);
      this.readableLength += 1;
      return true; // amqplib's stream says "full" only after 1,024 writes
    }
  }

  function fakeConnection() {
    const stream = new StalledStream();
    const confirms: ((error: unknown) => void)[] = [];
    const channel = Object.assign(new EventEmitter(), {
      ch: 1,
      connection: { channels: [] as unknown[], frameMax: 131_072, sentSinceLastCheck: false },
      pushConfirmCallback: (callback: (error: unknown) => void) => confirms.push(callback),
    });
    channel.connection.channels[1] = { channel, buffer: stream };
    const connection = { createConfirmChannel: async () => channel } as unknown as ChannelModel;
    return { connection, stream, confirms };
  }

  function pendingPublishes(count: number): PendingPublish[] {
    return Array.from({ length: count }, (_, i) =>
      pendingPublish(
        'conveyor.work',
        'object.check.v1',
        Buffer.from(`{"n":${i}}`),
        { messageId: `m-${i}` },
        () => undefined,
      ),
    );
  }

  it('stops encoding while a few runs wait for a stalled socket, and drops what was given up meanwhile', async () => {
    const { connection, stream, confirms } = fakeConnection();
    const lane = new PublishLane(0, silentLogger(), { confirmed: () => undefined, failed: () => undefined });
    await lane.attach(connection);
    const batch = pendingPublishes(5_000);
    lane.enqueue(batch);

    // Eight runs of 512 went into the stream; the rest waits unencoded in the lane.
    expect(stream.writes).toHaveLength(8);
    expect(confirms).toHaveLength(8 * 512);
    await sleep(30);
    expect(stream.writes).toHaveLength(8);

    // Messages given up on while held back (their deadline passed) are never sent.
    for (const pending of batch.slice(4096, 4500)) settlePublish(pending, new Error('deadline'));
    stream.readableLength = 0; // the socket drained
    await waitFor('the rest sent', () => confirms.length === 5_000 - 404);
    expect(stream.writes).toHaveLength(9);
    lane.stop();
  });
});
