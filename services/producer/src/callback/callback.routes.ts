import { workMessages } from '@conveyor/broker';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { CallbackAccepted, callbackBody, type TopologyNames } from '@conveyor/contracts';
import { contextOf } from '@conveyor/platform';
import express, { type RequestHandler } from 'express';
import type { DurablePublisher } from './durable-publisher.js';
import { splitCallback } from './callback.js';
import { defineRoute, jsonResponse } from '../http/api-route.js';
import { IdempotencyKeyHeader } from '../idempotency/idempotency-key.js';

export interface CallbackRouteDeps {
  publisher: DurablePublisher;
  names: TopologyNames;
  maxIds: number;
  /** Who may post (see authenticateCallback); runs before the body is checked or anything is published. */
  authenticate: RequestHandler;
  /** The client's rate limit on callbacks (see limits/admission.ts). */
  admit: RequestHandler | undefined;
  /** Honours an `Idempotency-Key` header (see idempotency/idempotent.ts). */
  idempotent: RequestHandler;
  now?: () => Date;
}

/** `POST /callback {"object_ids":[...]}`: one durable message per id, then 200 with the count. */
export function callbackRouter(deps: CallbackRouteDeps, registry: OpenAPIRegistry): express.Router {
  const now = deps.now ?? (() => new Date());
  const router = express.Router();
  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/callback',
      operationId: 'postObjectCallback',
      summary: 'Object-status callback: one durable check per object id',
      description:
        'Authenticated by an API key, or (without one) by the shared secret header and/or the source ' +
        'address allow-list the deployment configures. Other methods on /callback answer 405.',
      tags: ['legacy'],
      access: 'key',
      guards: deps.admit ? [deps.authenticate, deps.admit] : [deps.authenticate],
      headers: IdempotencyKeyHeader,
      before: [deps.idempotent],
      body: callbackBody(deps.maxIds),
      responses: {
        200: jsonResponse(CallbackAccepted, 'Every id is durable (published, or kept in the outbox)'),
      },
      errors: {
        400: '`validation_failed`, `invalid_json` or `invalid_idempotency_key`; `details` names each bad id',
        403: '`forbidden`: the right secret from an address not on the allow-list',
        409: '`idempotency_key_in_progress`: the first request with this Idempotency-Key is still being answered',
        422: '`idempotency_key_reused`: the Idempotency-Key came with another body',
        429: "`rate_limited`: this client's callback rate; try again after `Retry-After`",
        503: '`service_unavailable`: neither the broker nor the database can take the ids; retry later',
      },
    },
    async ({ body: { object_ids: objectIds } }, _req, res) => {
      const { correlationId, log } = contextOf(res);
      const receivedAt = now();
      const messages = workMessages(
        deps.names,
        'object.check',
        splitCallback(objectIds, receivedAt),
        correlationId,
        receivedAt,
      );
      const outcome = await deps.publisher.publishAll(messages);
      log.info('callback accepted', { ids: objectIds.length, ...outcome });
      const body: CallbackAccepted = { accepted: objectIds.length };
      res.json(body);
    },
  );
  // The old Go service answered other methods with 405; a 404 would read as "wrong address".
  router.all('/callback', (_req, res) => {
    res.setHeader('Allow', 'POST');
    res
      .status(405)
      .json({ error: { code: 'method_not_allowed', message: 'POST /callback with {"object_ids":[...]}' } });
  });
  return router;
}
