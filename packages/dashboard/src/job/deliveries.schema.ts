import { z } from 'zod';

// GET /v1/jobs/{id}/deliveries has no schema in @conveyor/contracts (services/producer's
// deliveries.routes.ts writes it by hand); this is its shape, parsed like every other answer.
// Status is a string here: a new delivery state on the server must not blank the page.

const Timestamp = z.iso.datetime({ offset: true });

const DeliveryAttempt = z.object({
  attempt: z.number().int(),
  startedAt: Timestamp,
  statusCode: z.number().int().nullable(),
  latencyMs: z.number().nullable(),
  responseSnippet: z.string().nullable(),
  error: z.string().nullable(),
});

export const WebhookDelivery = z.object({
  /** The webhook message id (`msg_…`). */
  id: z.string(),
  sequence: z.number().int(),
  url: z.string(),
  status: z.string(),
  attempts: z.number().int(),
  createdAt: Timestamp,
  deliveredAt: Timestamp.nullable(),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  attemptLog: z.array(DeliveryAttempt),
});
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const DeliveryList = z.object({ deliveries: z.array(WebhookDelivery) });

export const RedeliveryAccepted = z.object({
  deliveryId: z.string(),
  sequence: z.number().int(),
  status: z.string(),
});
