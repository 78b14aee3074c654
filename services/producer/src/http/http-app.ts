import {
  errorHandler,
  healthRouter,
  notFoundHandler,
  requestContext,
  traceRequests,
  type Tracing,
  type Logger,
  type Metrics,
  type ReadinessCheck,
} from '@conveyor/platform';
import { databaseUnavailableError } from '@conveyor/database';
import express from 'express';
import { crossOrigin } from './cross-origin.js';

export interface HttpAppDeps {
  log: Logger;
  metrics: Metrics;
  tracing: Tracing;
  readiness: ReadinessCheck[];
  bodyLimitBytes: number;
  routers: express.Router[];
  /** Origins allowed to call from a browser (CORS_ALLOWED_ORIGINS); none by default. */
  corsOrigins: readonly string[];
}

export function createHttpApp(deps: HttpAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestContext(deps.log, deps.metrics));
  if (deps.tracing.enabled) app.use(traceRequests(deps.tracing));
  const cors = crossOrigin(deps.corsOrigins);
  if (cors) app.use(cors);
  // Load balancers probe the API port; /metrics is on the ops port only.
  app.use(healthRouter(deps.readiness));
  app.use(express.json({ limit: deps.bodyLimitBytes, type: 'application/json' }));
  for (const router of deps.routers) app.use(router);
  app.use(notFoundHandler);
  app.use(
    errorHandler(deps.log, { bodyLimitBytes: deps.bodyLimitBytes, translate: databaseUnavailableError }),
  );
  return app;
}
