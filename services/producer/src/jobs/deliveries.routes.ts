import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { DeliveryLog, Redelivery, RotatedSecret } from '@conveyor/contracts';
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
import { defineRoute, jsonResponse } from '../http/api-route.js';
import { JobIdParams, notFound } from './jobs.routes.js';
import { registerJobWebhook } from './webhook-openapi.js';

export interface DeliveryRoutesDeps {
  jobs: JobStore;
  deliveries: WebhookDeliveryStore;
  secrets: WebhookSecretStore;
  publicBaseUrl: string;
  /** How long the previous secret keeps signing after a rotation. */
  secretOverlapMs: number;
}

/** The webhook delivery log of a job, manual redelivery, and secret rotation; and the webhook itself. */
export function deliveriesRouter(deps: DeliveryRoutesDeps, registry: OpenAPIRegistry): express.Router {
  const router = express.Router();
  registerJobWebhook(registry);

  const ownJob = async (id: string, clientId: string | undefined) => {
    const job = z.uuid().safeParse(id).success ? await deps.jobs.get(id, clientId) : undefined;
    if (!job) throw notFound(id);
    return job;
  };

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/jobs/{id}/deliveries',
      operationId: 'listJobDeliveries',
      summary: 'Webhook deliveries of a job, newest first, with every attempt',
      tags: ['webhooks'],
      access: 'key',
      params: JobIdParams,
      responses: { 200: jsonResponse(DeliveryLog, 'The delivery log') },
      errors: { 404: '`not_found`: no such job (or not yours)' },
    },
    async ({ params }, _req, res) => {
      const job = await ownJob(params.id, jobScopeOf(res));
      const deliveries = await deps.deliveries.listForJob(job.id);
      const body: DeliveryLog = {
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
      };
      res.json(body);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/v1/jobs/{id}/deliveries/redeliver',
      operationId: 'redeliverJobWebhook',
      summary: "Send the job's latest status to its callbackUrl again now",
      tags: ['webhooks'],
      access: 'key',
      params: JobIdParams,
      responses: { 202: jsonResponse(Redelivery, 'Queued for delivery') },
      errors: {
        404: '`not_found`: no such job (or not yours)',
        409: '`no_callback_url`: the job has no callbackUrl',
      },
    },
    async ({ params }, _req, res) => {
      const job = await ownJob(params.id, jobScopeOf(res));
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
      const body: Redelivery = { deliveryId: id, sequence: job.sequence, status: job.status };
      res.status(202).json(body);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/v1/webhook-secret/rotate',
      operationId: 'rotateWebhookSecret',
      summary: 'Issue a new webhook signing secret (the old one keeps signing for WEBHOOK_SECRET_OVERLAP_MS)',
      tags: ['webhooks'],
      access: 'key',
      responses: { 201: jsonResponse(RotatedSecret, 'The new secret, shown this once') },
    },
    async (_input, _req, res) => {
      const secret = generateWebhookSecret();
      await deps.secrets.rotate(clientIdOf(res), secret, deps.secretOverlapMs);
      const body: RotatedSecret = { secret, previousValidForMs: deps.secretOverlapMs };
      res.status(201).json(body);
    },
  );

  return router;
}
