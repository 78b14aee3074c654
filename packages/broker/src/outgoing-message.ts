import { MessageCatalog, type MessageEnvelope, type MessageKind, type OutgoingMessage, type TopologyNames } from '@conveyor/contracts';
import type { Broker, PublishOptions } from './broker.js';

export type { OutgoingMessage };

/** Where an envelope goes: the work exchange, under its kind's routing key. */
export function workMessage(names: TopologyNames, envelope: MessageEnvelope & { kind: MessageKind }): OutgoingMessage {
  return {
    exchange: names.workExchange,
    routingKey: MessageCatalog[envelope.kind].routingKey,
    messageId: envelope.messageId,
    correlationId: envelope.correlationId,
    type: envelope.kind,
    body: Buffer.from(JSON.stringify(envelope)),
  };
}

export function publishOutgoing(broker: Broker, message: OutgoingMessage, options: Pick<PublishOptions, 'timeoutMs' | 'failFast'> = {}): Promise<void> {
  return broker.publish(message.exchange, message.routingKey, message.body, {
    ...options,
    messageId: message.messageId,
    correlationId: message.correlationId,
    type: message.type,
  });
}

/** Publishes a batch; an outcome per message, in order: undefined when confirmed, else why not. */
export function publishAllOutgoing(broker: Broker, messages: readonly OutgoingMessage[], options: Pick<PublishOptions, 'timeoutMs' | 'failFast'> = {}): Promise<(Error | undefined)[]> {
  return broker.publishMany(messages, options);
}
