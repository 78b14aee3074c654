import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { OutgoingMessage, TopologyNames } from '@conveyor/contracts';
import { insertOutboxMessages, sql, type Database, type Kysely } from '@conveyor/database';
import { errorMessage, sleep, waitAtMost, type Logger } from '@conveyor/platform';
import { DispatchWatermark } from './dispatch-watermark.js';
import { recoverExpiredDispatchers } from './dispatch-recovery.js';

export interface JobDispatcherDeps {
  db: Kysely<Database>;
  names: TopologyNames;
  /** Resolves once the broker has confirmed the message. */
  publish: (message: OutgoingMessage) => Promise<void>;
  log: Logger;
}

export interface JobDispatcherOptions {
  /**
   * How long the lease lasts unrenewed: a dispatcher silent this long is taken for dead and its
   * unconfirmed jobs are re-sent by another process.
   */
  leaseMs: number;
  /** How often the lease is renewed, the watermark written and dead dispatchers looked for. */
  renewMs: number;
}

/** Between tries to spill a message to the outbox, or to learn whether an insert committed. */
const RETRY_MS = 1_000;
/** How long stop() waits for the publishes under way. */
const STOP_WAIT_MS = 5_000;

/**
 * Publishes the work messages of the jobs its producer commits, with the job row itself as the
 * record of what is still to send: a job inserted with `dispatcher` = this id needs no outbox
 * row. What makes that as safe as an outbox row is the lease row (job_dispatchers): renewed every
 * `renewMs` with the watermark (see DispatchWatermark) before which every job committed here is
 * confirmed. If this process dies, its lease runs out and any other (a producer's renewal, the
 * cleanup's routine) re-sends, through the outbox, its queued jobs created from the watermark on,
 * then deletes the row: some may go twice, which consumers tolerate; none is missed.
 *
 * A publish the broker refuses is spilled to the outbox (and sent by its relay); an insert whose
 * outcome is unknown (the connection died at commit) is looked up by id before it is given up.
 * While the lease row is missing (taken over while this process was paused), inserts find no
 * dispatcher and write outbox rows instead, until the next renewal restores the row.
 */
export class JobDispatcher {
  readonly id = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private watermark: DispatchWatermark | undefined;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly deps: JobDispatcherDeps,
    private readonly options: JobDispatcherOptions,
  ) {}

  /** Takes the lease; until then (and after stop) jobs are not dispatched here but through the outbox. */
  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => {
      // One renewal at a time; stop() waits for the one under way before giving the lease up.
      this.ticking ??= this.tick().finally(() => (this.ticking = undefined));
    }, this.options.renewMs);
    this.timer.unref();
  }

  /**
   * Called just before a job's insert is sent: the ticket to settle with one of the calls
   * below, or undefined when this dispatcher is not running (insert the job without it).
   */
  take(): number | undefined {
    if (this.stopping.signal.aborted) return undefined;
    return this.watermark?.take();
  }

  /** The insert committed with this dispatcher: publish its message. */
  committed(ticket: number, createdAt: Date, message: OutgoingMessage): void {
    this.watermark?.observe(createdAt);
    this.track(this.send(ticket, message));
  }

  /** The insert committed without this dispatcher (its outbox row carries the message), or not at all. */
  notDispatched(ticket: number): void {
    this.watermark?.settle(ticket);
  }

  /** The insert failed in a way that may have committed: find out, then publish or give up. */
  uncertain(ticket: number, jobId: string, message: OutgoingMessage): void {
    this.track(this.resolve(ticket, jobId, message));
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    clearInterval(this.timer);
    // A renewal still running would write the lease back after it is given up below.
    await this.ticking;
    await waitAtMost(Promise.all(this.inFlight), STOP_WAIT_MS);
    if (!this.watermark) return;
    try {
      // Unconfirmed jobs left (the broker is down): expire the lease now so they are re-sent at once.
      if (this.watermark.pending > 0) await this.writeLease(0);
      else await this.deps.db.deleteFrom('job_dispatchers').where('id', '=', this.id).execute();
    } catch (error) {
      this.deps.log.warn('could not release the dispatch lease; it runs out by itself', {
        error: errorMessage(error),
      });
    }
  }

  private track(work: Promise<void>): void {
    const tracked = work.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private async send(ticket: number, message: OutgoingMessage): Promise<void> {
    try {
      await this.deps.publish(message);
      this.watermark?.settle(ticket);
      return;
    } catch (error) {
      this.deps.log.warn('work message not confirmed; spilling it to the outbox', {
        messageId: message.messageId,
        error: errorMessage(error),
      });
    }
    while (!this.stopping.signal.aborted) {
      try {
        await insertOutboxMessages(this.deps.db, [message]);
        this.watermark?.settle(ticket);
        return;
      } catch (error) {
        this.deps.log.warn('could not spill a work message to the outbox; retrying', {
          messageId: message.messageId,
          error: errorMessage(error),
        });
        await sleep(RETRY_MS, this.stopping.signal);
      }
    }
    // Stopping with the ticket unsettled: the lease's recovery sends it.
  }

  private async resolve(ticket: number, jobId: string, message: OutgoingMessage): Promise<void> {
    while (!this.stopping.signal.aborted) {
      let row: { dispatcher: string | null; created_at: Date } | undefined;
      try {
        row = await this.deps.db
          .selectFrom('jobs')
          .select(['dispatcher', 'created_at'])
          .where('id', '=', jobId)
          .executeTakeFirst();
      } catch {
        await sleep(RETRY_MS, this.stopping.signal);
        continue;
      }
      if (row?.dispatcher === this.id) return this.committed(ticket, row.created_at, message);
      return this.notDispatched(ticket);
    }
  }

  private async tick(): Promise<void> {
    try {
      await this.renew();
      const recovered = await recoverExpiredDispatchers(this.deps.db, this.deps.names);
      if (recovered.dispatchers > 0)
        this.deps.log.warn('re-sent the unconfirmed jobs of dispatchers whose lease ran out', recovered);
    } catch (error) {
      this.deps.log.warn('dispatch lease renewal failed', { error: errorMessage(error) });
    }
  }

  private async renew(): Promise<void> {
    await this.writeLease(this.options.leaseMs);
  }

  /** Writes (or writes back, after a takeover) the lease row; reads the database's time. */
  private async writeLease(leaseMs: number): Promise<void> {
    const confirmedBefore = this.watermark
      ? sql<Date>`${this.watermark.value()}::timestamptz`
      : sql<Date>`now()`;
    const { now } = await this.deps.db
      .insertInto('job_dispatchers')
      .values({
        id: this.id,
        confirmed_before: confirmedBefore,
        lease_until: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})`,
      })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          confirmed_before: eb.ref('excluded.confirmed_before'),
          lease_until: eb.ref('excluded.lease_until'),
        })),
      )
      .returning(sql<Date>`now()`.as('now'))
      .executeTakeFirstOrThrow();
    if (this.watermark) this.watermark.observe(now);
    else this.watermark = new DispatchWatermark(now);
  }
}
