import type { JobStatus } from '@conveyor/contracts';

/**
 * One webhook delivery of a job and its attempts, as `GET /v1/jobs/{id}/deliveries` lists them.
 * The route builds this shape without a schema in @conveyor/contracts; the client tests hold the
 * two together until one is added.
 */
export interface WebhookDelivery {
  id: string;
  sequence: number;
  url: string;
  /** The database's DeliveryStatus (@conveyor/database, not imported: it would bring kysely's types). */
  status: 'pending' | 'sending' | 'delivered' | 'failed' | 'superseded' | 'gone';
  attempts: number;
  createdAt: string;
  deliveredAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  attemptLog: {
    attempt: number;
    startedAt: string;
    statusCode: number | null;
    latencyMs: number;
    /** The start of the receiver's answer. */
    responseSnippet: string | null;
    error: string | null;
  }[];
}

export interface DeliveryLog {
  deliveries: WebhookDelivery[];
}

/** `POST /v1/jobs/{id}/deliveries/redeliver`: the latest status is sent again now. */
export interface Redelivery {
  deliveryId: string;
  sequence: number;
  status: JobStatus;
}

/** `POST /v1/webhook-secret/rotate`: the new secret; the previous one signs too for a while. */
export interface RotatedSecret {
  secret: string;
  previousValidForMs: number;
}
