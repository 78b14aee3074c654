import type { MessageKind, TopologyNames } from '@conveyor/contracts';
import { retryTierTopology } from './retry-tiers.js';
import { INITIAL_GROUP_SIZE, type QueueSpec, type TopologySpec } from './topology-spec.js';

export interface WorkTopologyOptions {
  kinds: readonly MessageKind[];
  retryDelaysMs: readonly number[];
  /** Deliveries of one message (crashes, requeues) before the broker dead-letters it. */
  deliveryLimit: number;
  /** Replicas of a quorum queue when first declared (capped by the cluster's size). Default: the broker's. */
  initialGroupSize?: number;
}

/**
 * Quorum queues everywhere (replicated, durable, with a delivery limit). Dead-lettering is
 * at-least-once, which needs `reject-publish` overflow: a message moves to the next queue only
 * once that queue has confirmed it, so expiry from a retry tier can never drop a message.
 */
function quorumWith(replicas: Record<string, unknown>) {
  return (extra: Record<string, unknown>): Record<string, unknown> => ({
    'x-queue-type': 'quorum',
    'x-overflow': 'reject-publish',
    'x-dead-letter-strategy': 'at-least-once',
    ...replicas,
    ...extra,
  });
}

export function workTopology(names: TopologyNames, options: WorkTopologyOptions): TopologySpec {
  const replicas =
    options.initialGroupSize === undefined ? {} : { [INITIAL_GROUP_SIZE]: options.initialGroupSize };
  const quorum = quorumWith(replicas);
  // Job events travel on the events exchange to their own queue, not through the work exchange.
  const workKinds = options.kinds.filter((kind) => kind !== 'job.event');
  const workQueues: QueueSpec[] = workKinds.map((kind) => ({
    name: names.workQueue(kind),
    arguments: quorum({
      'x-delivery-limit': options.deliveryLimit,
      'x-dead-letter-exchange': names.deadLetterExchange,
    }),
  }));
  const tiers = retryTierTopology(names, options.retryDelaysMs, quorum);
  return {
    exchanges: [
      { name: names.workExchange, type: 'direct' },
      // Headers exchange: the tier is chosen by a header, so the routing key stays the
      // original one and expiry dead-letters the message straight back to its work queue.
      { name: names.retryExchange, type: 'headers' },
      { name: names.deadLetterExchange, type: 'fanout' },
      { name: names.eventsExchange, type: 'topic' },
    ],
    queues: [
      ...workQueues,
      ...tiers.queues,
      { name: names.deadLetterQueue, arguments: { 'x-queue-type': 'quorum', ...replicas } },
      {
        name: names.jobEventsQueue,
        arguments: quorum({
          'x-delivery-limit': options.deliveryLimit,
          'x-dead-letter-exchange': names.deadLetterExchange,
        }),
      },
    ],
    bindings: [
      ...workKinds.map((kind) => ({
        queue: names.workQueue(kind),
        exchange: names.workExchange,
        routingKey: names.routingKey(kind),
      })),
      ...tiers.bindings,
      { queue: names.deadLetterQueue, exchange: names.deadLetterExchange, routingKey: '' },
      { queue: names.jobEventsQueue, exchange: names.eventsExchange, routingKey: 'job.#' },
    ],
  };
}
