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
