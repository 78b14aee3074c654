import { CreateClientRequest, type CreatedClient } from '@conveyor/contracts';
import type { Database, Kysely } from '@conveyor/database';
import { contextOf, parseOrThrow, requireJsonBody } from '@conveyor/platform';
import express from 'express';
import { createApiClient } from './api-client.repository.js';
import { principalOf, requireOperator } from './auth.js';

/**
 * `POST /v1/clients` (operator keys only): registers an API client over the API, so creating
 * keys needs no database access. The very first operator key still comes from
 * `pnpm client:create <name> --role operator`, which writes to the database directly.
 */
export function clientsRouter(deps: { db: Kysely<Database> }): express.Router {
  const router = express.Router();
  router.post('/v1/clients', requireOperator, requireJsonBody, async (req, res) => {
    const request = parseOrThrow(CreateClientRequest, req.body, 'body');
    const client = await createApiClient(deps.db, request.name, request.role);
    // Warn-level with the operator who asked: new keys are worth an audit trail.
    contextOf(res).log.warn('api client created', {
      clientId: client.id,
      role: client.role,
      createdBy: principalOf(res).clientId,
    });
    const body: CreatedClient = {
      clientId: client.id,
      apiKey: client.apiKey,
      webhookSecret: client.webhookSecret,
      role: client.role,
    };
    res.status(201).json(body);
  });
  return router;
}
