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

/** An envelope's fields but its payload, as every encoder receives them. */
export type EnvelopeHead = Omit<MessageEnvelope, 'payload'>;

/**
 * The one encoder of an envelope's JSON text: its fields, their names and their order are
 * written here and nowhere else. The payload comes already encoded, so a batch, or SQL, can
 * supply it as text.
 */
export function encodeEnvelope(head: EnvelopeHead, payloadJson: string): string {
  return (
    `{"messageId":${JSON.stringify(head.messageId)},"kind":${JSON.stringify(head.kind)},"version":${head.version},` +
    `"createdAt":${JSON.stringify(head.createdAt)},"attempt":${head.attempt},"correlationId":${JSON.stringify(head.correlationId)},` +
    `"payload":${payloadJson}}`
  );
}

/** The per-message parts of an envelope template, in the order encodeEnvelope writes them. */
type TemplateHole = 'messageId' | 'createdAt' | 'correlationId' | 'payload';

/**
 * encodeEnvelope's text cut around the parts that vary per message, for encoders that fill them
 * in elsewhere (a batch of payloads; SQL, where only the database knows the payload): the
 * constant text between the holes, and which hole follows each piece. Holes are encoded as JSON
 * by the filler (a string value with its quotes; the payload as it is).
 */
export function envelopeTemplate(
  constants: Pick<EnvelopeHead, 'kind' | 'version' | 'attempt'> &
    Partial<Pick<EnvelopeHead, 'createdAt' | 'correlationId'>>,
): { pieces: string[]; holes: TemplateHole[] } {
  // A private-use character: JSON.stringify keeps it as it is, and no real value holds it here.
  const marks: Record<TemplateHole, string> = {
    messageId: '\uE000messageId\uE000',
    createdAt: '\uE000createdAt\uE000',
    correlationId: '\uE000correlationId\uE000',
    payload: '\uE000payload\uE000',
  };
  const text = encodeEnvelope(
    {
      messageId: marks.messageId,
      kind: constants.kind,
      version: constants.version,
      createdAt: constants.createdAt ?? marks.createdAt,
      attempt: constants.attempt,
      correlationId: constants.correlationId ?? marks.correlationId,
    },
    marks.payload,
  );
  // A string hole is replaced with its quotes (the filler writes a JSON string), the payload bare.
  const hole = /"\uE000(messageId|createdAt|correlationId)\uE000"|\uE000(payload)\uE000/g;
  const pieces: string[] = [];
  const holes: TemplateHole[] = [];
  let last = 0;
  for (const match of text.matchAll(hole)) {
    pieces.push(text.slice(last, match.index));
    const name = match[1] ?? match[2];
    if (name !== 'messageId' && name !== 'createdAt' && name !== 'correlationId' && name !== 'payload')
      throw new Error(`unknown hole ${String(name)}`);
    holes.push(name);
    last = match.index + match[0].length;
  }
  pieces.push(text.slice(last));
  return { pieces, holes };
}
