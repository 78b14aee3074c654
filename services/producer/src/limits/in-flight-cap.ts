import { sql, type Database, type Kysely } from '@conveyor/database';
import { errorMessage, type Logger } from '@conveyor/platform';

interface Count {
  /** Unfinished jobs at the last read, plus those admitted here since. */
  inFlight: number;
  readAt: number;
  reading: Promise<void> | undefined;
}

/**
 * A per-client cap on jobs in flight (scheduled, queued or running). The count is read from
 * PostgreSQL (a partial index holds only unfinished jobs, and the read stops at the cap) at most
 * every `refreshMs` per client and replica, and counted up locally in between, so a burst of
 * submits costs one read. Between reads each replica may admit up to what it saw free: the cap
 * can be passed by what several replicas admit in one `refreshMs`, never by more.
 */
export class InFlightCap {
  private readonly counts = new Map<string, Count>();

  constructor(
    private readonly db: Kysely<Database>,
    readonly max: number,
    private readonly refreshMs: number,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async admit(clientId: string): Promise<{ allowed: boolean; inFlight: number }> {
    let count = this.counts.get(clientId);
    if (!count || this.now() - count.readAt >= this.refreshMs) {
      count ??= { inFlight: 0, readAt: 0, reading: undefined };
      this.counts.set(clientId, count);
      const current = count;
      current.reading ??= this.read(clientId, current).finally(() => {
        current.reading = undefined;
      });
      await current.reading;
    }
    if (count.inFlight >= this.max) return { allowed: false, inFlight: count.inFlight };
    count.inFlight += 1;
    return { allowed: true, inFlight: count.inFlight };
  }

  private async read(clientId: string, count: Count): Promise<void> {
    try {
      const { rows } = await sql<{ n: string }>`
        select count(*) as n from (
          select 1 from jobs where client_id = ${clientId} and status in ('scheduled', 'queued', 'running')
          limit ${this.max}) unfinished`.execute(this.db);
      count.inFlight = Number(rows[0]?.n ?? 0);
    } catch (error) {
      // Unknown: let the submit decide (it needs the database too); read again next time.
      this.log.warn('jobs in flight unknown, admitting', { error: errorMessage(error) });
      count.inFlight = 0;
      return;
    }
    count.readAt = this.now();
    if (this.counts.size > 10_000) this.forgetStale();
  }

  private forgetStale(): void {
    const now = this.now();
    for (const [clientId, count] of this.counts)
      if (now - count.readAt > this.refreshMs * 10 && !count.reading) this.counts.delete(clientId);
  }
}
