/** A declarative description of exchanges, queues and bindings, asserted on every (re)connect. */
export interface ExchangeSpec {
  name: string;
  type: 'direct' | 'topic' | 'fanout' | 'headers';
}

export interface QueueSpec {
  name: string;
  /** x-arguments: queue type, TTL, dead-lettering, delivery limit. They must never change for an existing queue. */
  arguments: Record<string, unknown>;
}

export interface BindingSpec {
  queue: string;
  exchange: string;
  routingKey: string;
  arguments?: Record<string, unknown>;
}

export interface TopologySpec {
  exchanges: ExchangeSpec[];
  queues: QueueSpec[];
  bindings: BindingSpec[];
}

export function mergeTopology(...specs: TopologySpec[]): TopologySpec {
  return {
    exchanges: specs.flatMap((s) => s.exchanges),
    queues: specs.flatMap((s) => s.queues),
    bindings: specs.flatMap((s) => s.bindings),
  };
}

/**
 * The declaration argument that spreads a new quorum queue over that many nodes. RabbitMQ refuses
 * a re-declaration whose value differs from the queue's (none, for a queue declared before it was
 * set), so the broker declares an existing queue again without it (Broker.assertTopology).
 */
export const INITIAL_GROUP_SIZE = 'x-quorum-initial-group-size';
