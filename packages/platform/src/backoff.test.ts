import { backoffDelay, waitAtMost } from './backoff.js';

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

describe('waitAtMost', () => {
  it('is true when the promise resolves in time, and leaves no timer behind', async () => {
    jest.useFakeTimers();
    try {
      await expect(waitAtMost(Promise.resolve('done'), 60_000)).resolves.toBe(true);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });

  it('is false when time runs out first', async () => {
    const started = Date.now();
    await expect(waitAtMost(new Promise(() => undefined), 50)).resolves.toBe(false);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('rethrows a rejection that comes in time', async () => {
    await expect(waitAtMost(Promise.reject(new Error('refused')), 60_000)).rejects.toThrow('refused');
  });
});
