import { isTerminal, type JobHistoryEntry } from '@conveyor/contracts';
import type { Database, Kysely } from '@conveyor/database';
import { toApiJob, type JobStore } from '@conveyor/jobs';
import express from 'express';
import { z } from 'zod';
import { jobScopeOf, requireOperator } from '../../auth/auth.js';
import { notFound } from '../../jobs/jobs.routes.js';
import { readOverview } from '../overview.js';
import { SentSequences } from './job-changes.js';
import type { LiveStreams } from './live-streams.js';

/**
 * Both streams poll PostgreSQL rather than listen for changes: a job change has no
 * notification of its own (adding one would put a statement on the job hot path), and a few
 * small reads a second per open stream (the overview's counts every 2 s, one job by primary key
 * every 500 ms) are nothing beside the jobs' own writes for the handful of operators watching.
 */
const OVERVIEW_EVERY_MS = 2_000;
const JOB_EVERY_MS = 500;
/** Jobs changed per overview tick beyond which the viewer is told to re-read (`resync`). */
const CHANGES_PER_TICK = 200;
/** Changes are read this far back again, for transactions that committed after a read began. */
const LATE_COMMIT_MARGIN_MS = 2_000;
/** Only jobs created this recently are followed (the created_at index bounds the read). */
const FOLLOWED_FOR_MS = 3_600_000;

export interface LiveRoutesDeps {
  db: Kysely<Database>;
  store: JobStore;
  streams: LiveStreams;
}

export function liveRouter(deps: LiveRoutesDeps): express.Router {
  const router = express.Router();
  const { store, streams } = deps;

  router.get('/v1/live', requireOperator, async (req, res) => {
    const stream = streams.start(req, res);
    const sent = new SentSequences();
    let since: Date | undefined;
    await streams.poll(stream, OVERVIEW_EVERY_MS, async () => {
      stream.send('overview', await readOverview(deps.db, store));
      const changes = await store.changedSince(
        since ?? new Date(Date.now() - LATE_COMMIT_MARGIN_MS),
        FOLLOWED_FOR_MS,
        CHANGES_PER_TICK + 1,
      );
      since = new Date(changes.readAt.getTime() - LATE_COMMIT_MARGIN_MS);
      const news = sent.news(changes.jobs);
      if (news.resync || changes.jobs.length > CHANGES_PER_TICK) stream.send('resync', {});
      else for (const job of news.jobs) stream.send('job', toApiJob(job));
      return true;
    });
  });

  router.get('/v1/jobs/:id/live', async (req, res) => {
    const { id } = req.params;
    const scope = jobScopeOf(res);
    const first = z.uuid().safeParse(id).success ? await store.get(id, scope) : undefined;
    if (!first) throw notFound(id);
    const stream = streams.start(req, res);
    const sentHistory = new Set<string>();
    let sequence = -1;
    await streams.poll(stream, JOB_EVERY_MS, async () => {
      const job = await store.get(id, scope);
      if (!job) return false;
      if (job.sequence !== sequence) {
        sequence = job.sequence;
        stream.send('job', toApiJob(job));
      }
      const entries = (await store.history(id)).filter((entry) => !sentHistory.has(historyKey(entry)));
      for (const entry of entries) sentHistory.add(historyKey(entry));
      if (entries.length > 0) stream.send('history', entries);
      return !(isTerminal(job.status) && (await store.deliveriesSettled(id)));
    });
  });

  return router;
}

function historyKey(entry: JobHistoryEntry): string {
  return entry.type === 'delivery' ? `d:${entry.deliveryId}:${entry.attempt}` : `e:${entry.sequence}`;
}
