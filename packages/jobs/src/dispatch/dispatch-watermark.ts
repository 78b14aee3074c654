/**
 * What a dispatcher has yet to see confirmed, as a database time that job rows' created_at can
 * be compared with. A job holds a ticket from just before its insert is sent until its work
 * message is confirmed (or handed to the outbox, or known not to have committed); the ticket's
 * floor is the newest database time known when it was taken. The insert's transaction starts
 * later, so its created_at is at or after the floor: every job not yet confirmed has a
 * created_at at or after `value()`, and a recovery that re-sends the queued jobs from there on
 * misses none of them.
 */
export class DispatchWatermark {
  /** Ticket → floor (epoch ms). Floors never decrease with tickets, so the first is the oldest. */
  private readonly floors = new Map<number, number>();
  private newest: number;
  private nextTicket = 0;

  constructor(knownDatabaseTime: Date) {
    this.newest = knownDatabaseTime.getTime();
  }

  /** A database time just read (a row's created_at, the lease's now()). */
  observe(databaseTime: Date): void {
    this.newest = Math.max(this.newest, databaseTime.getTime());
  }

  take(): number {
    const ticket = this.nextTicket++;
    this.floors.set(ticket, this.newest);
    return ticket;
  }

  settle(ticket: number): void {
    this.floors.delete(ticket);
  }

  get pending(): number {
    return this.floors.size;
  }

  /** The time before which nothing this dispatcher committed still waits for a confirm. */
  value(): Date {
    for (const floor of this.floors.values()) return new Date(floor);
    return new Date(this.newest);
  }
}
