import { MessageEnvelope, ObjectCheckRequested } from '@conveyor/contracts';
import { splitCallback } from './callback.js';

describe('splitCallback', () => {
  it('makes one valid first-attempt envelope per id, stamped with the acceptance time', () => {
    const receivedAt = new Date('2026-11-23T12:00:00.000Z');
    const envelopes = splitCallback([7, 8, 7], receivedAt, 'corr-1');
    expect(envelopes).toHaveLength(3);
    for (const [index, envelope] of envelopes.entries()) {
      expect(MessageEnvelope.parse(envelope)).toEqual(envelope);
      expect(ObjectCheckRequested.parse(envelope.payload)).toEqual({ objectId: [7, 8, 7][index], receivedAt: '2026-11-23T12:00:00.000Z' });
      expect(envelope).toMatchObject({ kind: 'object.check', version: 1, attempt: 0, correlationId: 'corr-1' });
    }
    expect(new Set(envelopes.map((e) => e.messageId)).size).toBe(3);
  });
});
