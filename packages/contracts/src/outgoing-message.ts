/** A message ready for the wire: what the broker publishes and what the outbox stores. */
export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  messageId: string;
  correlationId: string | undefined;
  type: string | undefined;
  body: Buffer;
}
