import { TimeseriesQuery, type Overview, type Timeseries } from '@conveyor/contracts';
import type { Database, Kysely } from '@conveyor/database';
import { readTimeseries, type JobStore } from '@conveyor/jobs';
import { parseOrThrow } from '@conveyor/platform';
import express from 'express';
import { readOverview } from './overview.js';

/** The dashboard's overview and per-minute throughput (operator only). */
export function overviewRouter(deps: { db: Kysely<Database>; store: JobStore }): express.Router {
  const router = express.Router();
  router.get('/v1/overview', async (_req, res) => {
    const body: Overview = await readOverview(deps.db, deps.store);
    res.json(body);
  });
  router.get('/v1/overview/timeseries', async (req, res) => {
    const query = parseOrThrow(TimeseriesQuery, req.query, 'query');
    const body: Timeseries = { buckets: await readTimeseries(deps.db, query) };
    res.json(body);
  });
  return router;
}
