import { waitAtMost } from './waiting.js';

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
