import { planEventBatch, type BatchedEvent } from './webhook-delivery-batch.js';

const event = (jobId: string, sequence: number, eventId = `${jobId}-${sequence}`): BatchedEvent => ({
  eventId,
  jobId,
  sequence,
});

describe('planEventBatch', () => {
  it('leases the oldest event of each job; the later ones of a job wait behind it', () => {
    const plans = planEventBatch([event('a', 1), event('a', 2), event('b', 7), event('a', 3)], 10);
    expect(plans.map((p) => p.mayLease)).toEqual([true, false, true, false]);
    expect(plans.every((p) => p.first && !p.newerInBatch)).toBe(true);
  });

  it('makes an event that arrives after a newer one of its job stand down, as one-by-one recording would', () => {
    const plans = planEventBatch([event('a', 3), event('a', 1), event('a', 2), event('a', 4)], 10);
    expect(plans.map((p) => p.newerInBatch)).toEqual([false, true, true, false]);
    // 1 and 2 stand down; of 3 and 4, the older goes out first.
    expect(plans.map((p) => p.mayLease)).toEqual([true, false, false, false]);
  });

  it('skips repeated event ids (a redelivered message) without letting them count as newer', () => {
    const plans = planEventBatch([event('a', 2), event('a', 2), event('a', 1, 'other')], 10);
    expect(plans.map((p) => p.first)).toEqual([true, false, true]);
    expect(plans.map((p) => p.mayLease)).toEqual([true, false, false]);
    expect(plans[2]!.newerInBatch).toBe(true);
  });

  it('leases no more than the free slots, in arrival order', () => {
    const plans = planEventBatch([event('a', 1), event('b', 1), event('c', 1)], 2);
    expect(plans.map((p) => p.mayLease)).toEqual([true, true, false]);
    expect(planEventBatch([event('a', 1)], 0)[0]!.mayLease).toBe(false);
  });
});
