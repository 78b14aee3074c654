import { jobEventOf, type JobStore } from '@conveyor/jobs';
import { AppError } from '@conveyor/platform';
import {
  generateWebhookSecret,
  webhookPayload,
  type WebhookDeliveryStore,
  type WebhookSecretStore,
} from '@conveyor/webhooks';
import express from 'express';
import { z } from 'zod';
import { clientIdOf, jobScopeOf } from '../auth/auth.js';
import { notFound } from './jobs.routes.js';

export interface DeliveryRoutesDeps {
  jobs: JobStore;
  deliveries: WebhookDeliveryStore;
  secrets: WebhookSecretStore;
  publicBaseUrl: string;
  /** How long the previous secret keeps signing after a rotation. */
  secretOverlapMs: number;
}

/** The webhook delivery log of a job, manual redelivery, and secret rotation. */
export function deliveriesRouter(deps: DeliveryRoutesDeps): express.Router {
  const router = express.Router();

  const ownJob = async (id: string, clientId: string | undefined) => {
    const job = z.uuid().safeParse(id).success ? await deps.jobs.get(id, clientId) : undefined;
    if (!job) throw notFound(id);
    return job;
  };

  router.get('/v1/jobs/:id/deliveries', async (req, res) => {
    const job = await ownJob(req.params.id, jobScopeOf(res));
    const deliveries = await deps.deliveries.listForJob(job.id);
    res.json({
      deliveries: deliveries.map((d) => ({
        id: d.id,
        sequence: d.sequence,
        url: d.url,
        status: d.status,
        attempts: d.attempts,
        createdAt: d.createdAt.toISOString(),
        deliveredAt: d.deliveredAt?.toISOString() ?? null,
        lastStatusCode: d.lastStatusCode,
        lastError: d.lastError,
        attemptLog: d.attemptLog.map((a) => ({ ...a, startedAt: a.startedAt.toISOString() })),
      })),
    });
  });

  router.post('/v1/jobs/:id/deliveries/redeliver', async (req, res) => {
    const job = await ownJob(req.params.id, jobScopeOf(res));
    if (!job.callbackUrl)
      throw new AppError('no_callback_url', `job ${job.id} has no callbackUrl to deliver to`, {
        status: 409,
      });
    const event = jobEventOf(job, crypto.randomUUID(), job.updatedAt);
    const id = await deps.deliveries.redeliver(
      job.id,
      job.clientId,
      job.sequence,
      job.callbackUrl,
      JSON.stringify(webhookPayload(event, deps.publicBaseUrl)),
    );
    res.status(202).json({ deliveryId: id, sequence: job.sequence, status: job.status });
  });

  router.post('/v1/webhook-secret/rotate', async (_req, res) => {
    const secret = generateWebhookSecret();
    await deps.secrets.rotate(clientIdOf(res), secret, deps.secretOverlapMs);
    res.status(201).json({ secret, previousValidForMs: deps.secretOverlapMs });
  });

  return router;
}
