import { messageDefinition, type MessageKind } from './messages.js';

/**
 * Every exchange, queue and routing key of the broker, derived from one prefix so a test (or a
 * second stack on the same broker) gets its own names. What the retry tiers are is in the
 * broker package (retry-tiers.ts); their names are here with the rest.
 */
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
