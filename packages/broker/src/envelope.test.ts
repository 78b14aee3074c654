import { MessageEnvelope } from '@conveyor/contracts';
import { createEnvelope, encodeEnvelope, envelopeTemplate } from './envelope.js';

describe('the envelope encoder', () => {
  const envelope = createEnvelope(
    'object.check',
    { objectId: 7, receivedAt: '2026-12-07T10:00:00.000Z' },
    'corr "quoted"',
    new Date('2026-12-07T10:00:01.000Z'),
  );

  it('writes JSON that parses back to the envelope', () => {
    const text = encodeEnvelope(envelope, JSON.stringify(envelope.payload));
    expect(MessageEnvelope.parse(JSON.parse(text))).toEqual(envelope);
    expect(text).toBe(JSON.stringify(envelope));
  });

  it('cuts the same text around the parts a filler supplies', () => {
    const { pieces, holes } = envelopeTemplate({
      kind: envelope.kind,
      version: envelope.version,
      attempt: 0,
    });
    expect(holes).toEqual(['messageId', 'createdAt', 'correlationId', 'payload']);
    const filled = {
      messageId: JSON.stringify(envelope.messageId),
      createdAt: JSON.stringify(envelope.createdAt),
      correlationId: JSON.stringify(envelope.correlationId),
      payload: JSON.stringify(envelope.payload),
    };
    const text = pieces.map((piece, i) => piece + (holes[i] === undefined ? '' : filled[holes[i]!])).join('');
    expect(text).toBe(encodeEnvelope(envelope, JSON.stringify(envelope.payload)));
  });
});
