import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { CreateClientRequest, CreatedClient } from '@conveyor/contracts';
import type { Database, Kysely } from '@conveyor/database';
import { contextOf } from '@conveyor/platform';
import express from 'express';
import { createApiClient } from './api-client.repository.js';
import { principalOf, requireOperator } from './auth.js';
import { defineRoute, jsonResponse } from '../http/api-route.js';

/**
 * `POST /v1/clients` (operator keys only): registers an API client over the API, so creating
 * keys needs no database access. The very first operator key still comes from
 * `pnpm client:create <name> --role operator`, which writes to the database directly.
 */
export function clientsRouter(deps: { db: Kysely<Database> }, registry: OpenAPIRegistry): express.Router {
  const router = express.Router();
  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/v1/clients',
      operationId: 'createClient',
      summary: 'Register an API client; its key and webhook secret are shown this once',
      tags: ['operator'],
      access: 'operator',
      guards: [requireOperator],
      body: CreateClientRequest,
      responses: { 201: jsonResponse(CreatedClient, 'Created') },
    },
    async ({ body: request }, _req, res) => {
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
    },
  );
  return router;
}
