import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import {
  BuiltInJobKind,
  PauseState,
  QueueList,
  retryTierDelays,
  type TopologyNames,
} from '@conveyor/contracts';
import type { JobKindRegistry, PausedKinds } from '@conveyor/jobs';
import { AppError, contextOf } from '@conveyor/platform';
import express from 'express';
import { z } from 'zod';
import { defineRoute, jsonResponse } from '../http/api-route.js';
import { figuresWithFallback, type QueueFigureSource } from './queue-figures.js';
import { pausableKinds, queueInfos, topologyQueues } from './queue-list.js';

export interface QueueRoutesDeps {
  names: TopologyNames;
  kinds: JobKindRegistry;
  paused: PausedKinds;
  /** Where queue figures come from first (the management API when configured)... */
  figures: QueueFigureSource;
  /** ...and where they come from when it fails (AMQP). */
  fallbackFigures: QueueFigureSource;
  /** The services' own retry tiers (RETRY_DELAYS_MS); registered kinds add theirs. */
  retryDelaysMs: readonly number[];
}

/** Queues (operator only): their figures, and pausing or resuming the consumption of a kind. */
const KindParams = z.object({
  kind: z.string().meta({ description: '`object-check` or a job kind' }),
});

export function queuesRouter(deps: QueueRoutesDeps, registry: OpenAPIRegistry): express.Router {
  const router = express.Router();

  const knownJobKinds = async () => {
    const registered = await deps.kinds.list();
    return {
      kinds: [...new Set([...BuiltInJobKind.options, ...registered.map((kind) => kind.kind)])],
      retryDelaysMs: [...deps.retryDelaysMs, ...registered.flatMap((kind) => retryTierDelays(kind.retry))],
    };
  };

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/queues',
      operationId: 'listQueues',
      summary: "Every queue of the topology: depth, consumers, rates (with RabbitMQ's management API)",
      tags: ['operator'],
      access: 'operator',
      responses: { 200: jsonResponse(QueueList, 'The queues') },
    },
    async (_input, _req, res) => {
      const known = await knownJobKinds();
      const queues = topologyQueues(deps.names, known.kinds, known.retryDelaysMs);
      const [{ source, figures }, paused] = await Promise.all([
        figuresWithFallback(
          deps.figures,
          deps.fallbackFigures,
          queues.map((queue) => queue.name),
          contextOf(res).log,
        ),
        deps.paused.list(),
      ]);
      const body: QueueList = { source, queues: queueInfos(queues, figures, paused) };
      res.json(body);
    },
  );

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
  for (const paused of [true, false]) {
    const verb = paused ? 'pause' : 'resume';
    defineRoute(
      router,
      registry,
      {
        method: 'post',
        path: `/v1/queues/{kind}/${verb}`,
        operationId: paused ? 'pauseQueue' : 'resumeQueue',
        summary: paused
          ? 'Worker hosts stop consuming this kind (work under way finishes)'
          : 'Worker hosts consume this kind again',
        tags: ['operator'],
        access: 'operator',
        params: KindParams,
        responses: { 200: jsonResponse(PauseState, paused ? 'Paused' : 'Resumed') },
        errors: { 404: '`unknown_kind`: no work of this kind; the message lists the known kinds' },
      },
      ({ params: { kind } }, _req, res) => setPaused(paused, kind, res),
    );
  }

  return router;
}
