/** How a job kind retries: attempts in all (the first included) and the delay before each retry. */
export interface JobRetryPolicy {
  maxAttempts: number;
  backoff: { type: 'fixed' | 'exponential'; delayMs: number; maxDelayMs: number };
}

/**
 * The delay before retry n (n = 1 after the first failure): `delayMs` each time, or doubling
 * from it, never above `maxDelayMs`.
 */
export function retryDelayOf(policy: JobRetryPolicy, retry: number): number {
  const { type, delayMs, maxDelayMs } = policy.backoff;
  const delay = type === 'fixed' ? delayMs : delayMs * 2 ** (retry - 1);
  return Math.min(delay, maxDelayMs);
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
