import type { WorkerList } from '@conveyor/contracts';
import type { WorkerHostRegistry } from '@conveyor/jobs';
import express from 'express';

/** Worker hosts (operator only), alive when heard from within `aliveWindowMs`. */
export function workersRouter(deps: { hosts: WorkerHostRegistry; aliveWindowMs: number }): express.Router {
  const router = express.Router();
  router.get('/v1/workers', async (_req, res) => {
    const hosts = await deps.hosts.list(deps.aliveWindowMs);
    const body: WorkerList = {
      workers: hosts.map((host) => ({
        ...host,
        startedAt: host.startedAt.toISOString(),
        lastHeartbeatAt: host.lastHeartbeatAt.toISOString(),
      })),
    };
    res.json(body);
  });
  return router;
}
