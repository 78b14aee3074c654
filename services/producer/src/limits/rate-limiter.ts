import type { Database, Kysely } from '@conveyor/database';
import { errorMessage, type Logger } from '@conveyor/platform';
import { leaseSize, windowStart, type RateLimitPolicy } from './rate-limit-window.js';
import { leaseTokens, type Lease } from './token-lease.repository.js';

/** Whether a request may go on, and what the headers should say. */
export interface RateDecision {
  allowed: boolean;
  /** The window's tokens not yet handed out to any replica (what `RateLimit: r=` tells). */
  remaining: number;
}

interface LocalWindow {
  start: number;
  tokens: number;
  /** The shared window's count at the last lease. */
  used: number;
  spent: boolean;
  leasing: Promise<void> | undefined;
}

/**
 * A per-client quota per window shared by every producer replica: each replica leases tokens
 * from the window's row in PostgreSQL a tenth of the quota at a time (see leaseTokens) and spends
 * them locally, so the database sees about ten statements per client and window, not one per
 * request, and the quota is never exceeded across replicas. Tokens a replica still holds when the
 * window ends are lost, so a client may get up to a tenth less per replica, never more. If the
 * database cannot be asked, requests go on (the submit behind it needs the database anyway).
 */
export class RateLimiter {
  private readonly windows = new Map<string, LocalWindow>();

  constructor(
    private readonly db: Kysely<Database>,
    readonly policy: RateLimitPolicy,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async take(clientId: string): Promise<RateDecision> {
    const { limit, windowMs } = this.policy;
    const start = windowStart(this.now(), windowMs);
    let window = this.windows.get(clientId);
    if (!window || window.start !== start) {
      window = { start, tokens: 0, used: 0, spent: false, leasing: undefined };
      this.windows.set(clientId, window);
      this.forgetOldWindows(start);
    }
    while (window.tokens === 0 && !window.spent) {
      window.leasing ??= this.lease(clientId, window).finally(() => {
        window.leasing = undefined;
      });
      await window.leasing;
    }
    if (window.tokens === 0) return { allowed: false, remaining: 0 };
    window.tokens -= 1;
    return { allowed: true, remaining: limit - window.used + window.tokens };
  }

  private async lease(clientId: string, window: LocalWindow): Promise<void> {
    const { limit, name } = this.policy;
    let lease: Lease;
    try {
      lease = await leaseTokens(
        this.db,
        { clientId, bucket: name, windowStart: new Date(window.start) },
        leaseSize(limit),
        limit,
      );
    } catch (error) {
      this.log.warn('rate limit unavailable, letting the request through', {
        policy: name,
        error: errorMessage(error),
      });
      window.tokens += 1;
      return;
    }
    window.used = lease.used;
    window.tokens += lease.granted;
    if (lease.granted === 0) window.spent = true;
  }

  /** Clients idle since an earlier window are dropped, so the map holds the active ones only. */
  private forgetOldWindows(current: number): void {
    if (this.windows.size < 1_000) return;
    for (const [clientId, window] of this.windows) if (window.start < current) this.windows.delete(clientId);
  }
}
