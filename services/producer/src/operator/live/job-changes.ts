/** How many jobs a live stream remembers having sent before it starts over with a resync. */
const REMEMBERED = 10_000;

/**
 * Which of the jobs just read are news to a viewer: those whose sequence it has not been sent.
 * The reads overlap (see live.routes.ts), so the same change is read more than once.
 */
export class SentSequences {
  private readonly sent = new Map<string, number>();

  /** The jobs to send, newest change first as read; `resync` when this has forgotten too much. */
  news<T extends { id: string; sequence: number }>(jobs: readonly T[]): { jobs: T[]; resync: boolean } {
    const fresh = jobs.filter((job) => this.sent.get(job.id) !== job.sequence);
    for (const job of fresh) this.sent.set(job.id, job.sequence);
    if (this.sent.size <= REMEMBERED) return { jobs: fresh, resync: false };
    this.sent.clear();
    return { jobs: [], resync: true };
  }
}
