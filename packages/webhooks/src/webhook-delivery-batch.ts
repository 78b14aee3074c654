/** One job event about to be recorded as a delivery, as far as its batch is concerned. */
export interface BatchedEvent {
  eventId: string;
  jobId: string;
  sequence: number;
}

export interface EventPlan {
  /** The first occurrence of its event id in the batch (later copies are redeliveries: skipped). */
  first: boolean;
  /** An event of the same job with a higher sequence came earlier in the batch: it stands down. */
  newerInBatch: boolean;
  /**
   * May be inserted already leased (`sending`) and sent at once, if the table holds no older
   * pending or sending delivery of its job: it is the oldest event of its job left in the batch.
   */
  mayLease: boolean;
}

/**
 * What recording a batch of events one by one, in arrival order, would decide for each, as far as
 * the batch itself can tell (the table is consulted by the statement that records them):
 * an event stands down when a newer one of its job arrived before it; of the events of a job
 * that remain, only the oldest may go out at once, and only while lease slots last.
 */
export function planEventBatch(events: readonly BatchedEvent[], leaseSlots: number): EventPlan[] {
  const seen = new Set<string>();
  const highest = new Map<string, number>();
  const plans = events.map((event): EventPlan => {
    const first = !seen.has(event.eventId);
    seen.add(event.eventId);
    const newerInBatch = (highest.get(event.jobId) ?? -Infinity) > event.sequence;
    if (first) highest.set(event.jobId, Math.max(highest.get(event.jobId) ?? -Infinity, event.sequence));
    return { first, newerInBatch, mayLease: false };
  });
  const oldest = new Map<string, number>();
  plans.forEach((plan, i) => {
    if (!plan.first || plan.newerInBatch) return;
    const event = events[i]!;
    const current = oldest.get(event.jobId);
    if (current === undefined || events[current]!.sequence > event.sequence) oldest.set(event.jobId, i);
  });
  let slots = leaseSlots;
  plans.forEach((plan, i) => {
    if (slots > 0 && oldest.get(events[i]!.jobId) === i) {
      plan.mayLease = true;
      slots -= 1;
    }
  });
  return plans;
}
