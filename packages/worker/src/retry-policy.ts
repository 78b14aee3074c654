import type { RetryPolicy } from './job-definition.js';

/** A retry policy with every field set. */
export interface NormalizedRetryPolicy {
  maxAttempts: number;
  backoff:
    | { type: 'fixed' | 'exponential'; delayMs: number; maxDelayMs: number }
    | { type: 'tiers'; delaysMs: number[] };
}

const DEFAULT_MAX_DELAY_MS = 60_000;

export const DEFAULT_RETRY_POLICY: NormalizedRetryPolicy = {
  maxAttempts: 5,
  backoff: { type: 'exponential', delayMs: 1000, maxDelayMs: DEFAULT_MAX_DELAY_MS },
};

/** Fills the defaults; the shape is checked where the definition is loaded. */
export function normalizeRetryPolicy(policy: RetryPolicy | undefined): NormalizedRetryPolicy {
  if (policy === undefined) return DEFAULT_RETRY_POLICY;
  const backoff = policy.backoff ?? DEFAULT_RETRY_POLICY.backoff;
  if (backoff.type === 'tiers')
    return { maxAttempts: policy.maxAttempts, backoff: { type: 'tiers', delaysMs: [...backoff.delaysMs] } };
  return {
    maxAttempts: policy.maxAttempts,
    backoff: {
      type: backoff.type,
      delayMs: backoff.delayMs,
      // A cap below the first delay would shorten it: the cap is at least the first delay.
      maxDelayMs: Math.max(backoff.maxDelayMs ?? DEFAULT_MAX_DELAY_MS, backoff.delayMs),
    },
  };
}

/**
 * The delay before the next attempt, `attempt` being the one that just failed (1 after the
 * first failure): fixed → delayMs every time; exponential → delayMs × 2^(attempt-1), capped at
 * maxDelayMs; tiers → the attempt's delay in the list, the last one repeating. Whether another
 * attempt is left is `attempt < maxAttempts`, the caller's check.
 */
export function retryDelayMs(policy: RetryPolicy | NormalizedRetryPolicy, attempt: number): number {
  const { backoff } = normalizeRetryPolicy(policy);
  const retry = Number.isNaN(attempt) ? 1 : Math.max(1, Math.floor(attempt));
  if (backoff.type === 'tiers') return backoff.delaysMs[Math.min(retry, backoff.delaysMs.length) - 1] ?? 0;
  if (backoff.type === 'fixed') return backoff.delayMs;
  // 2^exponent overflows to Infinity past ~1023, which Math.min caps as well.
  return Math.min(backoff.maxDelayMs, backoff.delayMs * 2 ** (retry - 1));
}
