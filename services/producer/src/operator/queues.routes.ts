import {
  BuiltInJobKind,
  retryTierDelays,
  type PauseState,
  type QueueList,
  type TopologyNames,
} from '@conveyor/contracts';
import type { JobKindRegistry, PausedKinds } from '@conveyor/jobs';
import { AppError, contextOf } from '@conveyor/platform';
import express from 'express';
import type { QueueFigureSource } from './queue-figures.js';
import { pausableKinds, queueInfos, topologyQueues } from './queue-list.js';

export interface QueueRoutesDeps {
  names: TopologyNames;
  kinds: JobKindRegistry;
  paused: PausedKinds;
  figures: QueueFigureSource;
  /** The services' own retry tiers (RETRY_DELAYS_MS); registered kinds add theirs. */
  retryDelaysMs: readonly number[];
}

/** Queues (operator only): their figures, and pausing or resuming the consumption of a kind. */
export function queuesRouter(deps: QueueRoutesDeps): express.Router {
  const router = express.Router();

  const knownJobKinds = async () => {
    const registered = await deps.kinds.list();
    return {
      kinds: [...new Set([...BuiltInJobKind.options, ...registered.map((kind) => kind.kind)])],
      retryDelaysMs: [...deps.retryDelaysMs, ...registered.flatMap((kind) => retryTierDelays(kind.retry))],
    };
  };

  router.get('/v1/queues', async (_req, res) => {
    const known = await knownJobKinds();
    const queues = topologyQueues(deps.names, known.kinds, known.retryDelaysMs);
    const [figures, paused] = await Promise.all([
      deps.figures.figures(queues.map((queue) => queue.name)),
      deps.paused.list(),
    ]);
    const body: QueueList = { source: deps.figures.name, queues: queueInfos(queues, figures, paused) };
    res.json(body);
  });

  const setPaused = async (paused: boolean, kind: string, res: express.Response) => {
    const known = pausableKinds((await knownJobKinds()).kinds);
    if (!known.includes(kind))
      throw new AppError('unknown_kind', `no work of kind "${kind}"; known kinds: ${known.join(', ')}`, {
        status: 404,
        details: [{ path: 'path.kind', message: `must be one of ${known.join(', ')}` }],
      });
    if (paused) await deps.paused.pause(kind);
    else await deps.paused.resume(kind);
    contextOf(res).log.warn(paused ? 'kind paused' : 'kind resumed', { kind });
    const body: PauseState = { kind, paused };
    res.json(body);
  };
  router.post('/v1/queues/:kind/pause', (req, res) => setPaused(true, req.params.kind, res));
  router.post('/v1/queues/:kind/resume', (req, res) => setPaused(false, req.params.kind, res));

  return router;
}
