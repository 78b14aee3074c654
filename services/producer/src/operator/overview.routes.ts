import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { Overview, Timeseries, TimeseriesQuery } from '@conveyor/contracts';
import type { Database, Kysely } from '@conveyor/database';
import { readTimeseries, type JobStore } from '@conveyor/jobs';
import express from 'express';
import { defineRoute, jsonResponse } from '../http/api-route.js';
import { readOverview } from './overview.js';

/** The dashboard's overview and per-minute throughput (operator only). */
export function overviewRouter(
  deps: { db: Kysely<Database>; store: JobStore },
  registry: OpenAPIRegistry,
): express.Router {
  const router = express.Router();
  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/overview',
      operationId: 'getOverview',
      summary: "Every client's job counts and the backlogs",
      tags: ['operator'],
      access: 'operator',
      responses: { 200: jsonResponse(Overview, 'The overview') },
    },
    async (_input, _req, res) => {
      const body: Overview = await readOverview(deps.db, deps.store);
      res.json(body);
    },
  );
  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/overview/timeseries',
      operationId: 'getTimeseries',
      summary: 'Per minute: submitted, succeeded, failed, queue wait and run time percentiles',
      tags: ['operator'],
      access: 'operator',
      query: TimeseriesQuery,
      responses: { 200: jsonResponse(Timeseries, 'Every minute, oldest first') },
    },
    async ({ query }, _req, res) => {
      const body: Timeseries = { buckets: await readTimeseries(deps.db, query) };
      res.json(body);
    },
  );
  return router;
}
