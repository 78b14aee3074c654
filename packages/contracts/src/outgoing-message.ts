/** A message ready for the wire: what the broker publishes and what the outbox stores. */
export interface OutgoingMessage {
  exchange: string;
  routingKey: string;
  messageId: string;
  /**
   * The envelope's correlation id and kind, kept beside the body only for the outbox's rows
   * (`correlation_id`, `type`), where an operator looks for spilled messages in psql. They are
   * not sent as AMQP properties: the envelope in the body carries them (see PublishOptions).
   */
  correlationId: string | undefined;
  type: string | undefined;
  body: Buffer;
  /**
   * AMQP headers, when a message needs any (a trace's `traceparent`). Not kept by the outbox: a
   * message re-sent from it goes without them, so nothing may depend on them but tracing.
   */
  headers?: Record<string, string>;
}
