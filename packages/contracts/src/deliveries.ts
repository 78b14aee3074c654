import { z } from 'zod';
import { JobStatus } from './jobs.js';

const Timestamp = z.iso.datetime({ offset: true });

/** One webhook delivery of a job and its attempts, as `GET /v1/jobs/{id}/deliveries` lists them. */
export const WebhookDelivery = z
  .object({
    /** The `webhook-id` it is sent with (`msg_…`). */
    id: z.string(),
    /** The job event (its sequence) it pushes. */
    sequence: z.number().int(),
    url: z.string(),
    status: z.enum(['pending', 'sending', 'delivered', 'failed', 'superseded', 'gone']),
    attempts: z.number().int().nonnegative(),
    createdAt: Timestamp,
    deliveredAt: Timestamp.nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    attemptLog: z.array(
      z.object({
        attempt: z.number().int().positive(),
        startedAt: Timestamp,
        statusCode: z.number().int().nullable(),
        latencyMs: z.number().nonnegative(),
        /** The start of the receiver's answer. */
        responseSnippet: z.string().nullable(),
        error: z.string().nullable(),
      }),
    ),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const DeliveryLog = z.object({ deliveries: z.array(WebhookDelivery) }).meta({ id: 'DeliveryLog' });
export type DeliveryLog = z.infer<typeof DeliveryLog>;

/** `POST /v1/jobs/{id}/deliveries/redeliver` (202): the latest status is sent again now. */
export const Redelivery = z
  .object({ deliveryId: z.string(), sequence: z.number().int(), status: JobStatus })
  .meta({ id: 'Redelivery' });
export type Redelivery = z.infer<typeof Redelivery>;

/** `POST /v1/webhook-secret/rotate` (201): the new secret; the previous one signs too for a while. */
export const RotatedSecret = z
  .object({ secret: z.string(), previousValidForMs: z.number().int().nonnegative() })
  .meta({ id: 'RotatedSecret' });
export type RotatedSecret = z.infer<typeof RotatedSecret>;
