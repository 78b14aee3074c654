import { randomUUID } from 'node:crypto';
import {
  messageDefinition,
  type MessageEnvelope,
  type MessageKind,
  type MessagePayload,
} from '@conveyor/contracts';

/**
 * Wraps a payload in a first-attempt envelope. The payload is typed by the catalog; it is
 * parsed where it comes in (HTTP body, AMQP delivery), not again on the way out.
 */
export function createEnvelope<K extends MessageKind>(
  kind: K,
  payload: MessagePayload<K>,
  correlationId: string,
  now: Date = new Date(),
): MessageEnvelope & { kind: K } {
  const definition = messageDefinition(kind);
  return {
    messageId: randomUUID(),
    kind,
    version: definition.version,
    createdAt: now.toISOString(),
    attempt: 0,
    correlationId,
    payload,
  };
}
