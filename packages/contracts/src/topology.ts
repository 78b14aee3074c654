import { messageDefinition, type MessageKind } from './messages.js';

/**
 * Every exchange, queue and routing key of the broker, derived from one prefix so a test (or a
 * second stack on the same broker) gets its own names. Retry tiers are fixed delays: one queue
 * per tier whose queue TTL dead-letters back to the work exchange. Per-message TTLs on one
 * shared queue would only expire at its head, so a long delay would hold up a short one.
 */
export const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 30_000, 120_000, 600_000] as const;

/** Header that selects a retry tier on the (headers-type) retry exchange. Headers exchanges ignore names starting with "x-", hence no prefix. */
export const RETRY_TIER_HEADER = 'conveyor-retry-tier';

export interface TopologyNames {
  workExchange: string;
  retryExchange: string;
  deadLetterExchange: string;
  deadLetterQueue: string;
  eventsExchange: string;
  /** Every job event, durable until the notifier has taken it. */
  jobEventsQueue: string;
  workQueue(kind: MessageKind): string;
  retryQueue(delayMs: number): string;
  routingKey(kind: MessageKind): string;
}

export function topologyNames(prefix: string): TopologyNames {
  return {
    workExchange: `${prefix}.work`,
    retryExchange: `${prefix}.retry`,
    deadLetterExchange: `${prefix}.dlx`,
    deadLetterQueue: `${prefix}.dead-letter`,
    eventsExchange: `${prefix}.events`,
    jobEventsQueue: `${prefix}.job-events`,
    workQueue: (kind) => `${prefix}.${kind}`,
    retryQueue: (delayMs) => `${prefix}.retry.${delayMs}ms`,
    routingKey: (kind) => messageDefinition(kind).routingKey,
  };
}
