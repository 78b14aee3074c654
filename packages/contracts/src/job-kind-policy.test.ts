import { retryDelayOf, retryTierDelays, type JobRetryPolicy } from './job-kind-policy.js';

describe('job kind retry policy', () => {
  const exponential: JobRetryPolicy = {
    maxAttempts: 5,
    backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 500 },
  };

  it('doubles the delay from the first retry on, up to the ceiling', () => {
    expect([1, 2, 3, 4].map((n) => retryDelayOf(exponential, n))).toEqual([100, 200, 400, 500]);
    expect(retryTierDelays(exponential)).toEqual([100, 200, 400, 500]);
  });

  it('keeps a fixed delay, and one tier for a kind that never retries', () => {
    expect(
      retryTierDelays({ maxAttempts: 3, backoff: { type: 'fixed', delayMs: 250, maxDelayMs: 10_000 } }),
    ).toEqual([250, 250]);
    expect(
      retryTierDelays({ maxAttempts: 1, backoff: { type: 'fixed', delayMs: 250, maxDelayMs: 10_000 } }),
    ).toEqual([250]);
  });

  it('walks a list of tiers, repeating the last', () => {
    const tiers: JobRetryPolicy = { maxAttempts: 6, backoff: { type: 'tiers', delaysMs: [100, 500, 3_000] } };
    expect(retryTierDelays(tiers)).toEqual([100, 500, 3_000, 3_000, 3_000]);
  });
});
