/**
 * When to try a webhook again. Svix's schedule: the first attempt at once, then retries after
 * 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h — 8 attempts spread over about a day, long enough to
 * ride out a receiver's deploy or an overnight outage without hammering it.
 */
import { AppError } from '@conveyor/platform';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Delay before each retry: entry i is waited after the (i + 1)-th failed attempt. */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];

/** ±20 %: spreads the retries of many deliveries that failed together (an outage) apart. */
const JITTER_RATIO = 0.2;
/** A receiver's Retry-After may stretch a delay, but never past a day nor below a second. */
const MAX_RETRY_AFTER_MS = 24 * HOUR;
const MIN_RETRY_AFTER_MS = SECOND;

export interface NextAttemptOptions {
  /** The receiver's Retry-After (429/503), already parsed with parseRetryAfter. */
  retryAfterMs?: number;
  /** Source of randomness in [0, 1); injectable for deterministic tests. */
  random?: () => number;
  /** Retry delays replacing DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS (tests use short ones). */
  schedule?: readonly number[];
}

/**
 * Milliseconds to wait before the next attempt, given how many were made so far; 0 for the first
 * attempt and null once the schedule is exhausted (the delivery has failed for good).
 */
export function nextAttemptDelay(attemptsMade: number, options: NextAttemptOptions = {}): number | null {
  const { retryAfterMs, random = Math.random, schedule = DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS } = options;
  if (!Number.isSafeInteger(attemptsMade) || attemptsMade < 0) {
    throw new AppError(
      'invalid_attempt_count',
      `attemptsMade must be a whole number ≥ 0, got ${attemptsMade}.`,
    );
  }
  if (attemptsMade === 0) return 0;
  const scheduled = schedule[attemptsMade - 1];
  if (scheduled === undefined) return null;
  const jittered = withJitter(scheduled, random);
  if (retryAfterMs === undefined) return jittered;
  // Retry-After only ever lengthens the wait: a receiver cannot make us retry sooner than planned.
  return Math.max(jittered, clamp(retryAfterMs, MIN_RETRY_AFTER_MS, MAX_RETRY_AFTER_MS));
}

/** Total attempts the schedule allows, the first one included. */
export function maxAttempts(schedule: readonly number[] = DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS): number {
  return schedule.length + 1;
}

/**
 * A Retry-After header in milliseconds from `now`: delta-seconds ("120") or an HTTP-date
 * ("Wed, 21 Oct 2015 07:28:00 GMT", past dates meaning 0). Undefined when absent or malformed.
 */
export function parseRetryAfter(header: string | undefined, now: Date): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * SECOND;
  // Date.parse accepts bare numbers and ISO strings too; HTTP-dates always name a day or month.
  if (!/[a-z]/i.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now.getTime());
}

function withJitter(delayMs: number, random: () => number): number {
  const factor = 1 - JITTER_RATIO + 2 * JITTER_RATIO * random();
  return Math.max(0, Math.round(delayMs * factor));
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
