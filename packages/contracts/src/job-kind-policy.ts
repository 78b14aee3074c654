/**
 * The delay before each retry: `delayMs` each time (fixed), doubling from it up to `maxDelayMs`
 * (exponential), or a list whose last delay repeats (tiers: the built-in kinds follow the
 * operator's RETRY_DELAYS_MS this way).
 */
export type JobBackoff =
  | { type: 'fixed' | 'exponential'; delayMs: number; maxDelayMs: number }
  | { type: 'tiers'; delaysMs: readonly number[] };

/** How a job kind retries: attempts in all (the first included) and the delay before each retry. */
export interface JobRetryPolicy {
  maxAttempts: number;
  backoff: JobBackoff;
}

/** The delay before retry n (n = 1 after the first failure). */
export function retryDelayOf(policy: JobRetryPolicy, retry: number): number {
  const { backoff } = policy;
  if (backoff.type === 'tiers') {
    const delay = backoff.delaysMs[Math.min(retry, backoff.delaysMs.length) - 1];
    if (delay === undefined) throw new Error('a tiers backoff needs at least one delay');
    return delay;
  }
  const delay = backoff.type === 'fixed' ? backoff.delayMs : backoff.delayMs * 2 ** (retry - 1);
  return Math.min(delay, backoff.maxDelayMs);
}

/**
 * The retry tiers a kind needs, in the order its retries use them: one durable delay queue per
 * distinct delay (shared by every kind with the same delay). At least one, even for a kind that
 * never retries, because a "retry later" from its run needs somewhere to wait.
 */
export function retryTierDelays(policy: JobRetryPolicy): number[] {
  const retries = Math.max(1, policy.maxAttempts - 1);
  return Array.from({ length: retries }, (_, i) => Math.max(1, Math.round(retryDelayOf(policy, i + 1))));
}
