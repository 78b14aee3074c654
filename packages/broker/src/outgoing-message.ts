import { randomUUID } from 'node:crypto';
import {
  messageDefinition,
  type MessageEnvelope,
  type MessageKind,
  type MessagePayload,
  type OutgoingMessage,
  type TopologyNames,
} from '@conveyor/contracts';
import type { Broker, PublishOptions } from './broker.js';

export type { OutgoingMessage };

/** Where an envelope goes: the work exchange, under its kind's routing key. */
export function workMessage(
  names: TopologyNames,
  envelope: MessageEnvelope & { kind: MessageKind },
): OutgoingMessage {
  return {
    exchange: names.workExchange,
    routingKey: names.routingKey(envelope.kind),
    messageId: envelope.messageId,
    correlationId: envelope.correlationId,
    type: envelope.kind,
    body: Buffer.from(JSON.stringify(envelope)),
  };
}

/**
 * Work messages for many payloads of one kind at once, each in its own first-attempt envelope
 * (what createEnvelope + workMessage make, byte for byte). Everything but the message id and the
 * payload is the same for the batch, so it is serialized once: a callback of 200 ids no longer
 * stringifies 200 envelopes. The JSON keeps createEnvelope's key order.
 */
export function workMessages<K extends MessageKind>(
  names: TopologyNames,
  kind: K,
  payloads: readonly MessagePayload<K>[],
  correlationId: string,
  now: Date = new Date(),
): OutgoingMessage[] {
  const { routingKey, version } = messageDefinition(kind);
  const shared = `","kind":${JSON.stringify(kind)},"version":${version},"createdAt":"${now.toISOString()}","attempt":0,"correlationId":${JSON.stringify(correlationId)},"payload":`;
  return payloads.map((payload) => {
    const messageId = randomUUID();
    return {
      exchange: names.workExchange,
      routingKey,
      messageId,
      correlationId,
      type: kind,
      body: Buffer.from(`{"messageId":"${messageId}${shared}${JSON.stringify(payload)}}`),
    };
  });
}

export function publishOutgoing(
  broker: Broker,
  message: OutgoingMessage,
  options: Pick<PublishOptions, 'timeoutMs' | 'failFast'> = {},
): Promise<void> {
  return broker.publish(message.exchange, message.routingKey, message.body, {
    ...options,
    messageId: message.messageId,
  });
}

/** Publishes a batch; an outcome per message, in order: undefined when confirmed, else why not. */
export function publishAllOutgoing(
  broker: Broker,
  messages: readonly OutgoingMessage[],
  options: Pick<PublishOptions, 'timeoutMs' | 'failFast'> = {},
): Promise<(Error | undefined)[]> {
  return broker.publishMany(messages, options);
}
