import {
  DeadLetterListQuery,
  DeadLetterSelection,
  type DeadLetterPage,
  type PurgeResult,
  type RedriveResult,
} from '@conveyor/contracts';
import type { OutboxMessage } from '@conveyor/database';
import { selectionFilter, type DeadLetterStore, type SelectionFilter } from '@conveyor/jobs';
import { AppError, contextOf, errorMessage, parseOrThrow, requireJsonBody } from '@conveyor/platform';
import express, { type Response } from 'express';
import { z } from 'zod';

export interface DeadLetterRoutesDeps {
  deadLetters: DeadLetterStore;
  sendNow: (messages: OutboxMessage[]) => Promise<void>;
}

function notFound(id: string): AppError {
  return new AppError('not_found', `no dead letter ${id} (redriven or purged already?)`, { status: 404 });
}

/** Dead letters (operator only): list, read, redrive, purge. */
export function deadLettersRouter(deps: DeadLetterRoutesDeps): express.Router {
  const router = express.Router();

  const redrive = async (res: Response, selection: SelectionFilter): Promise<number> => {
    const { redriven, outbox } = await deps.deadLetters.redrive(selection);
    const { log } = contextOf(res);
    if (redriven > 0) log.info('dead letters redriven', { redriven });
    deps
      .sendNow(outbox)
      .catch((error: unknown) => log.warn('immediate publish failed', { error: errorMessage(error) }));
    return redriven;
  };

  router.get('/v1/dead-letters', async (req, res) => {
    const query = parseOrThrow(DeadLetterListQuery, req.query, 'query');
    const page = await deps.deadLetters.list(query);
    if (!page)
      throw new AppError('invalid_cursor', 'cursor must be the nextCursor of a previous page', {
        status: 400,
        details: [{ path: 'query.cursor', message: 'not a cursor' }],
      });
    const body: DeadLetterPage = page;
    res.json(body);
  });

  // Before /:id: these two are not ids.
  router.post('/v1/dead-letters/redrive', requireJsonBody, async (req, res) => {
    const selection = parseOrThrow(DeadLetterSelection, req.body, 'body');
    const body: RedriveResult = { redriven: await redrive(res, selectionFilter(selection)) };
    res.json(body);
  });

  router.post('/v1/dead-letters/purge', requireJsonBody, async (req, res) => {
    const selection = parseOrThrow(DeadLetterSelection, req.body, 'body');
    const purged = await deps.deadLetters.purge(selectionFilter(selection));
    contextOf(res).log.warn('dead letters purged', { purged });
    const body: PurgeResult = { purged };
    res.json(body);
  });

  router.get('/v1/dead-letters/:id', async (req, res) => {
    const { id } = req.params;
    const letter = z.uuid().safeParse(id).success ? await deps.deadLetters.get(id) : undefined;
    if (!letter) throw notFound(id);
    res.json(letter);
  });

  router.post('/v1/dead-letters/:id/redrive', async (req, res) => {
    const { id } = req.params;
    if (!z.uuid().safeParse(id).success) throw notFound(id);
    const redriven = await redrive(res, { ids: [id] });
    if (redriven === 0) throw notFound(id);
    const body: RedriveResult = { redriven };
    res.json(body);
  });

  return router;
}
