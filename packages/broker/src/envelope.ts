import { randomUUID } from 'node:crypto';
import { MessageCatalog, type MessageEnvelope, type MessageKind, type MessagePayload } from '@conveyor/contracts';

/** Wraps a payload in a first-attempt envelope after checking it against the catalog schema. */
export function createEnvelope<K extends MessageKind>(
  kind: K,
  payload: MessagePayload<K>,
  correlationId: string,
  now: Date = new Date(),
): MessageEnvelope & { kind: K } {
  const definition = MessageCatalog[kind];
  return {
    messageId: randomUUID(),
    kind,
    version: definition.version,
    createdAt: now.toISOString(),
    attempt: 0,
    correlationId,
    payload: definition.schema.parse(payload),
  };
}
