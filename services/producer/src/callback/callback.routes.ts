import { workMessages } from '@conveyor/broker';
import { callbackBody, type CallbackAccepted, type TopologyNames } from '@conveyor/contracts';
import { contextOf, parseOrThrow, requireJsonBody } from '@conveyor/platform';
import express, { type RequestHandler } from 'express';
import type { DurablePublisher } from './durable-publisher.js';
import { splitCallback } from './callback.js';

export interface CallbackRouteDeps {
  publisher: DurablePublisher;
  names: TopologyNames;
  maxIds: number;
  /** Who may post (see authenticateCallback); runs before the body is checked or anything is published. */
  authenticate: RequestHandler;
  /** The client's rate limit on callbacks (see limits/admission.ts). */
  admit: RequestHandler;
  /** Honours an `Idempotency-Key` header (see idempotency/idempotent.ts). */
  idempotent: RequestHandler;
  now?: () => Date;
}

/** `POST /callback {"object_ids":[...]}`: one durable message per id, then 200 with the count. */
export function callbackRouter(deps: CallbackRouteDeps): express.Router {
  const schema = callbackBody(deps.maxIds);
  const now = deps.now ?? (() => new Date());
  const router = express.Router();
  router.post(
    '/callback',
    deps.authenticate,
    deps.admit,
    requireJsonBody,
    deps.idempotent,
    async (req, res) => {
      const { object_ids: objectIds } = parseOrThrow(schema, req.body, 'body');
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
