import { DEFAULT_RETRY_POLICY, normalizeRetryPolicy, retryDelayMs } from './retry-policy.js';

describe('retryDelayMs', () => {
  it('doubles from 1 s up to 60 s by default', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((attempt) => retryDelayMs(DEFAULT_RETRY_POLICY, attempt))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000,
    ]);
    expect(retryDelayMs({ maxAttempts: 3 }, 2)).toBe(2000);
  });

  it('keeps a fixed delay fixed', () => {
    const policy = { maxAttempts: 4, backoff: { type: 'fixed' as const, delayMs: 250 } };
    expect([1, 2, 3].map((attempt) => retryDelayMs(policy, attempt))).toEqual([250, 250, 250]);
  });

  it('caps an exponential delay at maxDelayMs, never below the first delay', () => {
    const policy = {
      maxAttempts: 10,
      backoff: { type: 'exponential' as const, delayMs: 500, maxDelayMs: 3000 },
    };
    expect([1, 2, 3, 4, 5].map((attempt) => retryDelayMs(policy, attempt))).toEqual([
      500, 1000, 2000, 3000, 3000,
    ]);
    expect(retryDelayMs({ maxAttempts: 2, backoff: { type: 'exponential', delayMs: 90_000 } }, 1)).toBe(
      90_000,
    );
    expect(
      retryDelayMs({ maxAttempts: 2, backoff: { type: 'exponential', delayMs: 5000, maxDelayMs: 10 } }, 3),
    ).toBe(5000);
  });

  it('treats odd attempt numbers as the first, and a huge one as the cap', () => {
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 0)).toBe(1000);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, Number.NaN)).toBe(1000);
    expect(retryDelayMs(DEFAULT_RETRY_POLICY, 5000)).toBe(60_000);
  });
});

describe('normalizeRetryPolicy', () => {
  it('fills the defaults', () => {
    expect(normalizeRetryPolicy(undefined)).toEqual({
      maxAttempts: 5,
      backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000 },
    });
    expect(normalizeRetryPolicy({ maxAttempts: 2 })).toEqual({
      maxAttempts: 2,
      backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: 60_000 },
    });
    expect(normalizeRetryPolicy({ maxAttempts: 2, backoff: { type: 'fixed', delayMs: 10 } })).toEqual({
      maxAttempts: 2,
      backoff: { type: 'fixed', delayMs: 10, maxDelayMs: 60_000 },
    });
  });

  it('walks a list of tiers, the last one repeating', () => {
    const policy = { maxAttempts: 5, backoff: { type: 'tiers' as const, delaysMs: [100, 500] } };
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(policy, attempt))).toEqual([100, 500, 500, 500]);
  });
});
