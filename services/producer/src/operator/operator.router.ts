import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { TopologyNames } from '@conveyor/contracts';
import type { Database, Kysely, OutboxMessage } from '@conveyor/database';
import {
  DeadLetterStore,
  PausedKinds,
  WorkerHostRegistry,
  type JobKindRegistry,
  type JobStore,
} from '@conveyor/jobs';
import express from 'express';
import { requireOperator } from '../auth/auth.js';
import { deadLettersRouter } from './dead-letters.routes.js';
import { jobHistoryRouter } from './job-history.routes.js';
import { liveRouter } from './live/live.routes.js';
import type { LiveStreams } from './live/live-streams.js';
import { overviewRouter } from './overview.routes.js';
import type { QueueFigureSource } from './queue-figures.js';
import { queuesRouter } from './queues.routes.js';
import { workersRouter } from './workers.routes.js';

export interface OperatorRoutesDeps {
  db: Kysely<Database>;
  store: JobStore;
  names: TopologyNames;
  kinds: JobKindRegistry;
  sendNow: (messages: OutboxMessage[]) => Promise<void>;
  streams: LiveStreams;
  figures: QueueFigureSource;
  fallbackFigures: QueueFigureSource;
  retryDelaysMs: readonly number[];
  workerAliveWindowMs: number;
}

/** Paths only an operator key reaches (a client key gets 403 operator_only); mounted after authenticate. */
const OPERATOR_ONLY = ['/v1/dead-letters', '/v1/queues', '/v1/workers', '/v1/overview'];

/** The operator API: a job's history, retry and live stream (owner or operator), and the operator-only resources. */
export function operatorRouter(deps: OperatorRoutesDeps, registry: OpenAPIRegistry): express.Router {
  const { db, store, sendNow } = deps;
  const router = express.Router();
  router.use(
    jobHistoryRouter({ store, sendNow }, registry),
    liveRouter({ db, store, streams: deps.streams }, registry),
  );
  router.use(OPERATOR_ONLY, requireOperator);
  router.use(
    deadLettersRouter({ deadLetters: new DeadLetterStore(db), sendNow }, registry),
    queuesRouter(
      {
        names: deps.names,
        kinds: deps.kinds,
        paused: new PausedKinds(db),
        figures: deps.figures,
        fallbackFigures: deps.fallbackFigures,
        retryDelaysMs: deps.retryDelaysMs,
      },
      registry,
    ),
    workersRouter({ hosts: new WorkerHostRegistry(db), aliveWindowMs: deps.workerAliveWindowMs }, registry),
    overviewRouter({ db, store }, registry),
  );
  return router;
}
