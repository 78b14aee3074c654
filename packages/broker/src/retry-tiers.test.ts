import { tierAtLeast, tierForAttempt } from './retry-tiers.js';

describe('retry tiers', () => {
  it('grow with the attempt, then stay at the longest tier', () => {
    expect([0, 1, 2, 5].map((a) => tierForAttempt(a, [100, 200, 400]))).toEqual([100, 200, 400, 400]);
  });

  it('round a "retry after" up to the next tier, or down to the longest', () => {
    expect([0, 100, 150, 400, 9_000].map((ms) => tierAtLeast(ms, [400, 100, 200]))).toEqual([
      100, 100, 200, 400, 400,
    ]);
  });
});
