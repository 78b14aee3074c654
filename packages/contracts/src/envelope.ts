import { z } from 'zod';

/**
 * Every AMQP message body is an envelope: who it is, what it carries and how often it was
 * tried. `kind` + `version` select the payload schema from the message catalog.
 */
export const MessageEnvelope = z.object({
  messageId: z.uuid(),
  kind: z.string().min(1),
  version: z.number().int().positive(),
  createdAt: z.iso.datetime({ offset: true }),
  /** 0 on the first delivery attempt; incremented each time the message goes through a retry tier. */
  attempt: z.number().int().nonnegative(),
  correlationId: z.string().min(1).max(200),
  payload: z.unknown(),
});
export type MessageEnvelope = z.infer<typeof MessageEnvelope>;
