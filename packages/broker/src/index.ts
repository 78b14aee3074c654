export * from './broker.js';
export * from './errors.js';
export * from './topology-spec.js';
export * from './work-topology.js';
export * from './envelope.js';
export * from './outgoing-message.js';
export * from './message-consumer.js';
export * from './retry-tiers.js';
