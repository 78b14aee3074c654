import express from 'express';
import type { Metrics } from './metrics.js';

/** A dependency the service needs to do work; `/readyz` is 503 while any check fails. */
export type ReadinessCheck = { name: string; check: () => Promise<boolean> | boolean };

/**
 * `/healthz` (the process is alive) and `/readyz` (broker and database reachable): what a load
 * balancer probes, so an API port serves them too.
 */
export function healthRouter(checks: ReadinessCheck[]): express.Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          return [name, await check()] as const;
        } catch {
          return [name, false] as const;
        }
      }),
    );
    const ready = results.every(([, ok]) => ok);
    res
      .status(ready ? 200 : 503)
      .json({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) });
  });
  return router;
}

/**
 * Health, readiness and `/metrics`. Metrics tell how busy a service is and what fails, so they are
 * served on an ops port only, never on a port the public reaches.
 */
export function opsRouter(metrics: Metrics, checks: ReadinessCheck[]): express.Router {
  const router = healthRouter(checks);
  router.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  return router;
}

/** What an ops port serves: health, readiness and metrics (the whole HTTP surface of a service without an API). */
export function opsApp(metrics: Metrics, checks: ReadinessCheck[]): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(opsRouter(metrics, checks));
  app.use((_req, res) => {
    res
      .status(404)
      .json({ error: { code: 'not_found', message: 'only /healthz, /readyz and /metrics are served here' } });
  });
  return app;
}
