import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import {
  DeadLetterDetail,
  DeadLetterListQuery,
  DeadLetterPage,
  DeadLetterSelection,
  PurgeResult,
  RedriveResult,
} from '@conveyor/contracts';
import type { OutboxMessage } from '@conveyor/database';
import { selectionFilter, type DeadLetterStore, type SelectionFilter } from '@conveyor/jobs';
import { AppError, contextOf, errorMessage } from '@conveyor/platform';
import express, { type Response } from 'express';
import { z } from 'zod';
import { defineRoute, jsonResponse } from '../http/api-route.js';
import { invalidCursor, LIST_QUERY_ERRORS } from '../http/keyset-page.js';

export interface DeadLetterRoutesDeps {
  deadLetters: DeadLetterStore;
  sendNow: (messages: OutboxMessage[]) => Promise<void>;
}

function notFound(id: string): AppError {
  return new AppError('not_found', `no dead letter ${id} (redriven or purged already?)`, { status: 404 });
}

/** Dead letters (operator only): list, read, redrive, purge. */
const DeadLetterIdParams = z.object({
  id: z.string().meta({ description: "The dead letter's id (a UUID; any other value is a 404)" }),
});
const NO_SUCH_DEAD_LETTER = '`not_found`: no such dead letter (redriven or purged already?)';

export function deadLettersRouter(deps: DeadLetterRoutesDeps, registry: OpenAPIRegistry): express.Router {
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

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/dead-letters',
      operationId: 'listDeadLetters',
      summary: 'Dead letters, newest first, a page at a time',
      tags: ['operator'],
      access: 'operator',
      query: DeadLetterListQuery,
      responses: { 200: jsonResponse(DeadLetterPage, 'A page, the next cursor and the total') },
      errors: { 400: LIST_QUERY_ERRORS },
    },
    async ({ query }, _req, res) => {
      const page = await deps.deadLetters.list(query);
      if (!page) throw invalidCursor();
      const body: DeadLetterPage = page;
      res.json(body);
    },
  );

  // Before {id}: these two are not ids.
  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/v1/dead-letters/redrive',
      operationId: 'redriveDeadLetters',
      summary: 'Redrive the selected dead letters (ids, a kind, or all) to their work queues',
      tags: ['operator'],
      access: 'operator',
      body: DeadLetterSelection,
      responses: { 200: jsonResponse(RedriveResult, 'How many were redriven') },
    },
    async ({ body: selection }, _req, res) => {
      const body: RedriveResult = { redriven: await redrive(res, selectionFilter(selection)) };
      res.json(body);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/v1/dead-letters/purge',
      operationId: 'purgeDeadLetters',
      summary: 'Delete the selected dead letters (ids, a kind, or all)',
      tags: ['operator'],
      access: 'operator',
      body: DeadLetterSelection,
      responses: { 200: jsonResponse(PurgeResult, 'How many were deleted') },
    },
    async ({ body: selection }, _req, res) => {
      const purged = await deps.deadLetters.purge(selectionFilter(selection));
      contextOf(res).log.warn('dead letters purged', { purged });
      const body: PurgeResult = { purged };
      res.json(body);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/dead-letters/{id}',
      operationId: 'getDeadLetter',
      summary: 'A dead letter with its message body and headers',
      tags: ['operator'],
      access: 'operator',
      params: DeadLetterIdParams,
      responses: { 200: jsonResponse(DeadLetterDetail, 'The dead letter') },
      errors: { 404: NO_SUCH_DEAD_LETTER },
    },
    async ({ params: { id } }, _req, res) => {
      const letter = z.uuid().safeParse(id).success ? await deps.deadLetters.get(id) : undefined;
      if (!letter) throw notFound(id);
      const body: DeadLetterDetail = letter;
      res.json(body);
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'post',
      path: '/v1/dead-letters/{id}/redrive',
      operationId: 'redriveDeadLetter',
      summary: 'Put one dead letter back on its work queue (durably, through the outbox)',
      tags: ['operator'],
      access: 'operator',
      params: DeadLetterIdParams,
      responses: { 200: jsonResponse(RedriveResult, 'Redriven') },
      errors: { 404: NO_SUCH_DEAD_LETTER },
    },
    async ({ params: { id } }, _req, res) => {
      if (!z.uuid().safeParse(id).success) throw notFound(id);
      const redriven = await redrive(res, { ids: [id] });
      if (redriven === 0) throw notFound(id);
      const body: RedriveResult = { redriven };
      res.json(body);
    },
  );

  return router;
}
