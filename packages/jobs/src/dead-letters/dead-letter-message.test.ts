import { topologyNames } from '@conveyor/contracts';
import { describeDeadLetter } from './dead-letter-message.js';

const names = topologyNames('t');
const jobId = '5b0c4f6e-3c1e-4a7b-9c55-8a0d6f1f2e3a';
const jobBody = Buffer.from(
  JSON.stringify({ kind: 'job.factorize', version: 1, attempt: 2, payload: { jobId } }),
);

describe('describeDeadLetter', () => {
  it("reads a handler's headers", () => {
    const letter = describeDeadLetter(names, {
      body: jobBody,
      routingKey: 'job.factorize.v1',
      messageId: 'm1',
      headers: {
        'x-error-code': 'retries_exhausted',
        'x-error-message': 'upstream 503',
        'x-original-queue': 't.job.factorize',
        'x-attempts': 3,
      },
    });
    expect(letter).toMatchObject({
      messageId: 'm1',
      queue: 't.job.factorize',
      kind: 'factorize',
      jobId,
      reason: { code: 'retries_exhausted', message: 'upstream 503' },
      attempts: 3,
    });
  });

  it("reads the broker's x-death for a delivery limit, past the retry tiers' expiries", () => {
    const letter = describeDeadLetter(names, {
      body: Buffer.from('{"kind":"object.check","payload":{"objectId":1}}'),
      routingKey: 'object.check.v1',
      messageId: undefined,
      headers: {
        'x-delivery-count': 4,
        'x-death': [
          { queue: 't.object.check', reason: 'delivery_limit', count: 1, exchange: 't.work' },
          { queue: 't.retry.100ms', reason: 'expired', count: 1, exchange: 't.retry' },
        ],
      },
    });
    expect(letter).toMatchObject({
      queue: 't.object.check',
      kind: 'object-check',
      jobId: null,
      exchange: 't.work',
      reason: { code: 'delivery_limit' },
      attempts: 4,
    });
    expect(letter.messageId).toMatch(/^sha256:/);
  });

  it('keeps a body that is not JSON, and unknown queues as unknown', () => {
    const letter = describeDeadLetter(names, {
      body: Buffer.from('not json'),
      routingKey: 'x',
      messageId: 'm2',
      headers: { 'x-error-code': Buffer.from('invalid_message'), 'x-original-queue': 'elsewhere' },
    });
    expect(letter).toMatchObject({ kind: 'unknown', jobId: null, body: 'not json', attempts: 0 });
    expect(letter.reason.code).toBe('invalid_message');
    expect(letter.headers['x-error-code']).toBe('invalid_message');
  });
});
