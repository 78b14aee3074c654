import {
  DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS,
  maxAttempts,
  nextAttemptDelay,
  parseRetryAfter,
} from './retry-schedule.js';

const HOUR = 3_600_000;
const middle = () => 0.5;

describe('nextAttemptDelay', () => {
  it('follows the Svix schedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then gives up', () => {
    const delays = Array.from({ length: 9 }, (_, made) => nextAttemptDelay(made, { random: middle }));
    expect(delays).toEqual([0, 5_000, 300_000, 1_800_000, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR, null]);
    expect(maxAttempts()).toBe(8);
    const total = DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS.reduce((sum, delay) => sum + delay, 0);
    expect(total / HOUR).toBeCloseTo(27.6, 1);
  });

  it('jitters by ±20 %, so the first retry never comes before 4 s', () => {
    expect(nextAttemptDelay(1, { random: () => 0 })).toBe(4_000);
    expect(nextAttemptDelay(1, { random: () => 0.999_999 })).toBe(6_000);
    for (let i = 0; i < 200; i++) {
      const delay = nextAttemptDelay(2) ?? -1;
      expect(delay).toBeGreaterThanOrEqual(240_000);
      expect(delay).toBeLessThanOrEqual(360_000);
    }
  });

  it('takes a custom schedule', () => {
    const schedule = [10, 20];
    expect([0, 1, 2, 3].map((made) => nextAttemptDelay(made, { schedule, random: middle }))).toEqual([
      0,
      10,
      20,
      null,
    ]);
    expect(maxAttempts(schedule)).toBe(3);
  });

  it('honours a longer Retry-After, capped at a day', () => {
    expect(nextAttemptDelay(1, { random: middle, retryAfterMs: 60_000 })).toBe(60_000);
    expect(nextAttemptDelay(1, { random: middle, retryAfterMs: 7 * 24 * HOUR })).toBe(24 * HOUR);
  });

  it('never lets Retry-After shorten the schedule, nor go below a second', () => {
    expect(nextAttemptDelay(3, { random: middle, retryAfterMs: 1_000 })).toBe(1_800_000);
    expect(nextAttemptDelay(1, { schedule: [10], random: middle, retryAfterMs: 0 })).toBe(1_000);
  });

  it('stops once the schedule is exhausted, whatever Retry-After says', () => {
    expect(nextAttemptDelay(8, { retryAfterMs: 1_000 })).toBeNull();
  });

  it('refuses a nonsensical attempt count', () => {
    expect(() => nextAttemptDelay(-1)).toThrow(expect.objectContaining({ code: 'invalid_attempt_count' }));
    expect(() => nextAttemptDelay(1.5)).toThrow(expect.objectContaining({ code: 'invalid_attempt_count' }));
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2025-01-01T12:00:00Z');

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
  });

  it('reads an HTTP-date relative to now, a past date meaning at once', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 12:05:00 GMT', now)).toBe(300_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 12:00:00 GMT', now)).toBe(0);
  });

  it.each([undefined, '', '-5', '1.5', 'soon', '2025-01-01', 'Xyz, 99 Foo 2025 GMT'])(
    'ignores %p',
    (header) => {
      expect(parseRetryAfter(header, now)).toBeUndefined();
    },
  );
});
