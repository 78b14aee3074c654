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
import { encodeEnvelope, envelopeTemplate } from './envelope.js';

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
    body: Buffer.from(encodeEnvelope(envelope, JSON.stringify(envelope.payload))),
  };
}

/**
 * Work messages for many payloads of one kind at once, each in its own first-attempt envelope
 * (what createEnvelope + workMessage make, byte for byte). Everything but the message id and the
 * payload is the same for the batch, so it is encoded once, as an envelope template: a callback
 * of 200 ids no longer stringifies 200 envelopes.
 */
export function workMessages<K extends MessageKind>(
  names: TopologyNames,
  kind: K,
  payloads: readonly MessagePayload<K>[],
  correlationId: string,
  now: Date = new Date(),
): OutgoingMessage[] {
  const { routingKey, version } = messageDefinition(kind);
  // Only the message id and the payload vary: [before id, between id and payload, after payload].
  const { pieces } = envelopeTemplate({
    kind,
    version,
    attempt: 0,
    createdAt: now.toISOString(),
    correlationId,
  });
  const [beforeId, beforePayload, end] = pieces;
  if (beforeId === undefined || beforePayload === undefined || end === undefined)
    throw new Error('unexpected envelope template');
  return payloads.map((payload) => {
    const messageId = randomUUID();
    return {
      exchange: names.workExchange,
      routingKey,
      messageId,
      correlationId,
      type: kind,
      body: Buffer.from(`${beforeId}"${messageId}"${beforePayload}${JSON.stringify(payload)}${end}`),
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
    headers: message.headers,
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
