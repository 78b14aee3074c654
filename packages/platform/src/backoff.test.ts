import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles from the base and never exceeds the cap', () => {
    const max = (attempt: number) => backoffDelay(attempt, 100, 1_000, () => 1);
    expect([0, 1, 2, 3, 4, 10, 100].map(max)).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('jitters within the upper half of the window', () => {
    expect(backoffDelay(3, 100, 1_000, () => 0)).toBe(400);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(3, 100, 1_000);
      expect(delay).toBeGreaterThanOrEqual(400);
      expect(delay).toBeLessThanOrEqual(800);
    }
  });
});
