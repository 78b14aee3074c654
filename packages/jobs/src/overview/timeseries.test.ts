import { fillBuckets } from './timeseries.js';

describe('fillBuckets', () => {
  const from = new Date('2026-12-08T01:00:00.000Z');

  it('gives every minute, oldest first, zeros and nulls where nothing happened', () => {
    const buckets = fillBuckets(from, 3, [
      { minute: new Date('2026-12-08T01:01:00.000Z'), submitted: 4, runMs: { p50: 10, p95: 20 } },
      { minute: new Date('2026-12-08T01:01:00.000Z'), succeeded: 3, failed: 1 },
      { minute: new Date('2026-12-08T01:02:00.000Z'), queueWaitMs: { p50: 1, p95: 2 } },
      { minute: new Date('2026-12-08T00:59:00.000Z'), submitted: 99 },
    ]);
    expect(buckets).toEqual([
      {
        minute: '2026-12-08T01:00:00.000Z',
        submitted: 0,
        succeeded: 0,
        failed: 0,
        queueWaitMs: null,
        runMs: null,
      },
      {
        minute: '2026-12-08T01:01:00.000Z',
        submitted: 4,
        succeeded: 3,
        failed: 1,
        queueWaitMs: null,
        runMs: { p50: 10, p95: 20 },
      },
      {
        minute: '2026-12-08T01:02:00.000Z',
        submitted: 0,
        succeeded: 0,
        failed: 0,
        queueWaitMs: { p50: 1, p95: 2 },
        runMs: null,
      },
    ]);
  });
});
