import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { WorkerList } from '@conveyor/contracts';
import type { WorkerHostRegistry } from '@conveyor/jobs';
import express from 'express';
import { defineRoute, jsonResponse } from '../http/api-route.js';

/** Worker hosts (operator only), alive when heard from within `aliveWindowMs`. */
export function workersRouter(
  deps: { hosts: WorkerHostRegistry; aliveWindowMs: number },
  registry: OpenAPIRegistry,
): express.Router {
  const router = express.Router();
  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/workers',
      operationId: 'listWorkers',
      summary: 'Worker hosts and whether they are alive',
      tags: ['operator'],
      access: 'operator',
      responses: { 200: jsonResponse(WorkerList, 'The hosts') },
    },
    async (_input, _req, res) => {
      const hosts = await deps.hosts.list(deps.aliveWindowMs);
      const body: WorkerList = {
        workers: hosts.map((host) => ({
          ...host,
          startedAt: host.startedAt.toISOString(),
          lastHeartbeatAt: host.lastHeartbeatAt.toISOString(),
        })),
      };
      res.json(body);
    },
  );
  return router;
}
