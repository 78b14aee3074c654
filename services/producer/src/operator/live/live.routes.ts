import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { isTerminal, type JobHistoryEntry } from '@conveyor/contracts';
import type { Database, Kysely } from '@conveyor/database';
import { toApiJob, type JobStore } from '@conveyor/jobs';
import express from 'express';
import { z } from 'zod';
import { jobScopeOf, requireOperator } from '../../auth/auth.js';
import { defineRoute } from '../../http/api-route.js';
import { JobIdParams, NO_SUCH_JOB, notFound } from '../../jobs/jobs.routes.js';
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

/** A Server-Sent Events answer: `event: <name>` lines, each with one JSON `data` line. */
const sse = (description: string) => ({
  description,
  content: { 'text/event-stream': { schema: z.string().meta({ description: 'Server-Sent Events' }) } },
});

export function liveRouter(deps: LiveRoutesDeps, registry: OpenAPIRegistry): express.Router {
  const router = express.Router();
  const { store, streams } = deps;
  // One overview read serves every stream open at the time: its job counts are a scan of the
  // jobs table, which must not be repeated per viewer.
  const overview = sharedFor(OVERVIEW_EVERY_MS / 2, () => readOverview(deps.db, store));

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/live',
      operationId: 'streamOverview',
      summary: 'Server-Sent Events: `overview` every 2 s, `job` on changes, `resync` when too many',
      tags: ['operator'],
      access: 'operator',
      guards: [requireOperator],
      responses: { 200: sse('The stream (Overview and Job objects as JSON)') },
    },
    async (_input, req, res) => {
      const stream = streams.start(req, res);
      const sent = new SentSequences();
      let since: Date | undefined;
      await streams.poll(stream, OVERVIEW_EVERY_MS, async () => {
        stream.send('overview', await overview());
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
    },
  );

  defineRoute(
    router,
    registry,
    {
      method: 'get',
      path: '/v1/jobs/{id}/live',
      operationId: 'streamJob',
      summary: 'Server-Sent Events: `job` at once and on every change, `history` entries; ends when final',
      tags: ['operator'],
      access: 'key',
      params: JobIdParams,
      responses: { 200: sse('The stream (Job objects and JobHistoryEntry lists as JSON)') },
      errors: { 404: NO_SUCH_JOB },
    },
    async ({ params: { id } }, req, res) => {
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
    },
  );

  return router;
}

/** `read` shared by the callers of the same `maxAgeMs`: one read under way at a time, its answer reused meanwhile. */
function sharedFor<T>(maxAgeMs: number, read: () => Promise<T>): () => Promise<T> {
  let latest: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!latest || Date.now() - latest.at > maxAgeMs) {
      const value = read();
      const entry = { at: Date.now(), value };
      latest = entry;
      // A failed read is not kept: the next caller tries again.
      value.catch(() => {
        if (latest === entry) latest = undefined;
      });
    }
    return latest.value;
  };
}

function historyKey(entry: JobHistoryEntry): string {
  return entry.type === 'delivery' ? `d:${entry.deliveryId}:${entry.attempt}` : `e:${entry.sequence}`;
}
