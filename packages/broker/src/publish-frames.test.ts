import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  encodePublishRun,
  FrameEncodingError,
  type FramedPublish,
  type RunProperties,
} from './publish-frames.js';

/** amqplib's own encoders, the reference: the framed path must put the same bytes on the wire. */
const load = createRequire(__filename);
const amqplibRoot = dirname(load.resolve('amqplib'));
const defs = load(join(amqplibRoot, 'lib/defs.js')) as {
  BasicPublish: number;
  BasicProperties: number;
  encodeMethod(id: number, channel: number, fields: object): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: object): Buffer;
};
const { makeBodyFrame } = load(join(amqplibRoot, 'lib/frame.js')) as {
  makeBodyFrame(channel: number, payload: Buffer): Buffer;
};
const { publish: publishArgs } = load(join(amqplibRoot, 'lib/api_args.js')) as {
  publish(exchange: string, routingKey: string, options: object): object;
};

/** What amqplib's connection.sendMessage writes for one publish (body split like its sendContent). */
function amqplibFrames(
  channel: number,
  message: FramedPublish,
  shared: RunProperties,
  frameMax: number,
): Buffer {
  const fields = publishArgs(message.exchange, message.routingKey, {
    mandatory: shared.mandatory,
    deliveryMode: shared.deliveryMode,
    contentType: shared.contentType,
    timestamp: shared.timestamp,
    ...message.properties,
  });
  const parts = [
    defs.encodeMethod(defs.BasicPublish, channel, fields),
    defs.encodeProperties(defs.BasicProperties, channel, message.body.length, fields),
  ];
  const maxBody = frameMax - 8;
  for (let start = 0; start < message.body.length; start += maxBody)
    parts.push(makeBodyFrame(channel, message.body.subarray(start, start + maxBody)));
  return Buffer.concat(parts);
}

const shared: RunProperties = {
  mandatory: true,
  deliveryMode: 2,
  contentType: 'application/json',
  timestamp: 1_796_000_000,
};

function message(
  overrides: Partial<FramedPublish> & { properties?: FramedPublish['properties'] } = {},
): FramedPublish {
  return {
    exchange: 'conveyor.work',
    routingKey: 'object.check',
    body: Buffer.from(JSON.stringify({ messageId: randomUUID(), payload: { objectId: 42 } })),
    properties: { messageId: randomUUID(), correlationId: randomUUID(), type: 'object.check' },
    ...overrides,
  };
}

describe('encodePublishRun', () => {
  it('writes the same bytes as amqplib for a run of ordinary messages', () => {
    const run = Array.from({ length: 25 }, () => message());
    const expected = Buffer.concat(run.map((m) => amqplibFrames(7, m, shared, 131_072)));
    expect(encodePublishRun(7, run, shared, 131_072).equals(expected)).toBe(true);
  });

  it('matches amqplib for every combination of optional properties, empty and non-ASCII values', () => {
    const variants: FramedPublish[] = [
      message({ properties: {} }),
      message({ properties: { messageId: 'm' } }),
      message({ properties: { correlationId: 'é-ü-中文', type: '' } }),
      message({ exchange: '', routingKey: 'queue.direct', body: Buffer.alloc(0) }),
      message({ exchange: 'x'.repeat(255), routingKey: 'ключ' }),
    ];
    const sharedVariants: RunProperties[] = [
      shared,
      { mandatory: false },
      { mandatory: true, deliveryMode: 1 },
      { mandatory: false, contentType: 'text/plain', timestamp: 0 },
    ];
    for (const runShared of sharedVariants) {
      const expected = Buffer.concat(variants.map((m) => amqplibFrames(1, m, runShared, 4096)));
      expect(encodePublishRun(1, variants, runShared, 4096).toString('hex')).toBe(expected.toString('hex'));
    }
  });

  it('splits bodies larger than a frame into several body frames, as amqplib does', () => {
    const frameMax = 4096;
    for (const size of [frameMax - 8, frameMax - 7, 3 * (frameMax - 8), 10_000]) {
      const large = message({ body: Buffer.alloc(size, 0x61) });
      expect(
        encodePublishRun(2, [large], shared, frameMax).equals(amqplibFrames(2, large, shared, frameMax)),
      ).toBe(true);
    }
  });

  it('refuses a property longer than AMQP allows before writing anything', () => {
    expect(() =>
      encodePublishRun(1, [message(), message({ properties: { messageId: 'x'.repeat(256) } })], shared, 4096),
    ).toThrow(FrameEncodingError);
    expect(() => encodePublishRun(1, [message({ routingKey: 'é'.repeat(128) })], shared, 4096)).toThrow(
      /routingKey is 256 bytes/,
    );
  });

  it('keeps working when a later run is larger than any before it', () => {
    const long = Array.from({ length: 700 }, () => message());
    expect(
      encodePublishRun(3, long, shared, 131_072).equals(
        Buffer.concat(long.map((m) => amqplibFrames(3, m, shared, 131_072))),
      ),
    ).toBe(true);
  });
});
