import { leaseSize, rateLimitHeaders, secondsToReset, windowStart } from './rate-limit-window.js';

describe('rate limit windows', () => {
  it('aligns windows to the epoch, so every replica agrees on them', () => {
    expect(windowStart(12_345, 1_000)).toBe(12_000);
    expect(windowStart(12_000, 5_000)).toBe(10_000);
  });

  it('tells whole seconds until the reset, at least one', () => {
    expect(secondsToReset(10_000, 5_000)).toBe(5);
    expect(secondsToReset(14_999, 5_000)).toBe(1);
    expect(secondsToReset(12_100, 5_000)).toBe(3);
  });

  it('writes the IETF RateLimit-Policy and RateLimit fields', () => {
    expect(rateLimitHeaders({ name: 'submits', limit: 100, windowMs: 60_000 }, 42, 30_000)).toEqual({
      'RateLimit-Policy': '"submits";q=100;w=60',
      RateLimit: '"submits";r=42;t=30',
    });
    expect(rateLimitHeaders({ name: 'x', limit: 1, windowMs: 1_000 }, -3, 0).RateLimit).toBe('"x";r=0;t=1');
  });

  it('leases a tenth of the quota at a time, at least one token', () => {
    expect(leaseSize(1)).toBe(1);
    expect(leaseSize(10)).toBe(1);
    expect(leaseSize(1_000)).toBe(100);
  });
});
