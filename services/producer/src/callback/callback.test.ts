import { ObjectCheckRequested } from '@conveyor/contracts';
import { splitCallback } from './callback.js';

describe('splitCallback', () => {
  it('makes one valid payload per id, in order, stamped with the acceptance time', () => {
    const receivedAt = new Date('2026-11-23T12:00:00.000Z');
    const payloads = splitCallback([7, 8, 7], receivedAt);
    expect(payloads.map((p) => ObjectCheckRequested.parse(p))).toEqual(
      [7, 8, 7].map((objectId) => ({ objectId, receivedAt: '2026-11-23T12:00:00.000Z' })),
    );
  });
});
