/**
 * Fixed windows of `windowMs`, the same for every replica (aligned to the epoch), and the IETF
 * RateLimit header fields (draft-ietf-httpapi-ratelimit-headers): `RateLimit-Policy` says the
 * quota and window, `RateLimit` what is left and when the window resets, in seconds.
 */
export interface RateLimitPolicy {
  /** The policy's name in the headers, e.g. "submits". */
  name: string;
  /** Requests a client may make per window. */
  limit: number;
  windowMs: number;
}

export function windowStart(now: number, windowMs: number): number {
  return now - (now % windowMs);
}

/** Whole seconds until the window of `now` ends (at least 1, as Retry-After needs). */
export function secondsToReset(now: number, windowMs: number): number {
  return Math.max(1, Math.ceil((windowStart(now, windowMs) + windowMs - now) / 1000));
}

export function rateLimitHeaders(
  policy: RateLimitPolicy,
  remaining: number,
  now: number,
): Record<'RateLimit-Policy' | 'RateLimit', string> {
  const windowSeconds = Math.max(1, Math.round(policy.windowMs / 1000));
  return {
    'RateLimit-Policy': `"${policy.name}";q=${policy.limit};w=${windowSeconds}`,
    RateLimit: `"${policy.name}";r=${Math.max(0, remaining)};t=${secondsToReset(now, policy.windowMs)}`,
  };
}

/**
 * Tokens a replica takes from the shared window at once: a tenth of the quota, so a replica asks
 * the database about ten times a window at most, and the tokens it holds when the window ends
 * (lost, never carried over) are at most a tenth of it.
 */
export function leaseSize(limit: number): number {
  return Math.max(1, Math.floor(limit / 10));
}
