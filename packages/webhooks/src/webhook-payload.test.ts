import type { JobEvent } from '@conveyor/contracts';
import { webhookPayload } from './webhook-payload.js';

const BASE_URL = 'https://conveyor.example';

function eventWith(result: unknown): JobEvent {
  return {
    eventId: '6f1c1c1e-4f1a-4c36-9a55-0d6f0b9d2a01',
    jobId: '0b7e3a52-9f55-4b8e-a9a4-62b8a3a4f0c2',
    clientId: 'default',
    kind: 'factorize',
    customId: 'order-42',
    status: 'succeeded',
    sequence: 3,
    progress: { fraction: 1, message: null },
    result,
    error: null,
    callbackUrl: 'https://receiver.example/hooks',
    occurredAt: '2026-12-07T10:00:00.000Z',
  };
}

describe('webhookPayload', () => {
  it('carries the event without its client and callback URL, a small result inline', () => {
    const event = eventWith({ factors: [2, 3, 7] });
    expect(webhookPayload(event, BASE_URL)).toEqual({
      eventId: event.eventId,
      jobId: event.jobId,
      customId: 'order-42',
      kind: 'factorize',
      status: 'succeeded',
      sequence: 3,
      progress: { fraction: 1, message: null },
      result: { factors: [2, 3, 7] },
      error: null,
      occurredAt: event.occurredAt,
    });
  });

  it('keeps a null result null', () => {
    expect(webhookPayload(eventWith(null), BASE_URL)).toMatchObject({ result: null });
  });

  it('links a result over 16 KiB instead of inlining it', () => {
    const event = eventWith({ text: 'x'.repeat(16 * 1024) });
    const payload = webhookPayload(event, BASE_URL);
    expect(payload).toMatchObject({ resultUrl: `${BASE_URL}/v1/jobs/${event.jobId}` });
    expect(payload).not.toHaveProperty('result');
  });
});
