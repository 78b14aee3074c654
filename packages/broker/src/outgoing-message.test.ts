import { MessageEnvelope, ObjectCheckRequested, topologyNames } from '@conveyor/contracts';
import { createEnvelope } from './envelope.js';
import { workMessage, workMessages } from './outgoing-message.js';

describe('workMessages', () => {
  const names = topologyNames('unit');
  const now = new Date('2026-12-07T04:00:00.123Z');

  it('makes what createEnvelope + workMessage make, byte for byte, but for the message id', () => {
    const payloads = [0, 7, Number.MAX_SAFE_INTEGER].map((objectId) => ({
      objectId,
      receivedAt: now.toISOString(),
    }));
    const batch = workMessages(names, 'object.check', payloads, 'corr-"quoted"\\', now);
    expect(batch).toHaveLength(3);
    batch.forEach((message, index) => {
      const envelope = {
        ...createEnvelope('object.check', payloads[index]!, 'corr-"quoted"\\', now),
        messageId: message.messageId,
      };
      const single = workMessage(names, envelope);
      expect(message.body.toString()).toBe(single.body.toString());
      expect({ ...message, body: undefined }).toEqual({ ...single, body: undefined });
      const parsed = MessageEnvelope.parse(JSON.parse(message.body.toString()));
      expect(ObjectCheckRequested.parse(parsed.payload)).toEqual(payloads[index]);
    });
    expect(new Set(batch.map((m) => m.messageId)).size).toBe(3);
  });

  it('keeps non-ASCII text intact', () => {
    const [message] = workMessages(
      names,
      'object.check',
      [{ objectId: 1, receivedAt: now.toISOString() }],
      'corrélation-中',
      now,
    );
    expect(JSON.parse(message!.body.toString()).correlationId).toBe('corrélation-中');
  });
});
