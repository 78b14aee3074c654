import type { TopologyNames } from '@conveyor/contracts';
import type { Database, Kysely, OutboxMessage } from '@conveyor/database';
import { promoteDueJobs, runDueSchedules, type JobEventPublishing } from '@conveyor/jobs';
import type { Logger } from '@conveyor/platform';
import client from 'prom-client';
import { PeriodicRoutine, untilExhausted } from '../periodic-routine.js';

export interface SchedulingSettings {
  PROMOTE_INTERVAL_MS: number;
  PROMOTE_BATCH_SIZE: number;
  SCHEDULER_INTERVAL_MS: number;
  SCHEDULE_MISFIRE_GRACE_MS: number;
  JOB_EVENTS: JobEventPublishing;
}

export interface SchedulingDeps {
  db: Kysely<Database>;
  names: TopologyNames;
  /** Publishes outbox messages just committed (the relay sends whatever this cannot). */
  sendNow: (messages: OutboxMessage[]) => Promise<void>;
  registry: client.Registry;
  log: Logger;
}

/** Due schedules per transaction: each holds its row lock until the pass commits. */
const SCHEDULES_PER_PASS = 50;
/** Most ticks of one schedule fired at once (after a stall shorter than the misfire grace). */
const MAX_TICKS_PER_PASS = 10;

/**
 * The time-driven routines, here in the cleanup rather than in the producers: every deployment
 * runs a cleanup, they need no HTTP traffic to run (a quiet producer fleet still starts jobs on
 * time), and a burst of 10,000 jobs due at one second is promoted off the request path. Both
 * are safe in any number of replicas at once (SKIP LOCKED batches; tick keys) and survive any
 * restart: the job row (status scheduled, run_at) and the schedule row (next_run_at) are the
 * only state, so whichever cleanup runs next picks up where the last left off.
 */
export function schedulingRoutines(settings: SchedulingSettings, deps: SchedulingDeps): PeriodicRoutine[] {
  const { db, names, log } = deps;
  const counter = (name: string, help: string) =>
    new client.Counter({ name, help, registers: [deps.registry] });
  const promoted = counter(
    'conveyor_delayed_jobs_promoted_total',
    'Delayed jobs moved from scheduled to queued',
  );
  const created = counter('conveyor_schedule_jobs_created_total', 'Jobs created by schedule ticks');
  const skipped = counter(
    'conveyor_schedule_ticks_skipped_total',
    'Schedule ticks that made no job: missed during downtime (catchUp none) or overlapping (overlap skip)',
  );
  return [
    new PeriodicRoutine(
      'due-jobs',
      settings.PROMOTE_INTERVAL_MS,
      async (signal) => {
        await untilExhausted(
          async () => {
            const pass = await promoteDueJobs(
              db,
              names,
              settings.PROMOTE_BATCH_SIZE,
              settings.JOB_EVENTS,
              'promoter',
            );
            if (pass.count === 0) return 0;
            promoted.inc(pass.count);
            // Not awaited: the next batch's transaction overlaps these publishes.
            void deps.sendNow(pass.outbox);
            if (log.isDebugEnabled())
              log.debug('delayed jobs queued', {
                jobs: pass.count,
                maxLatenessMs: Math.round(pass.maxLatenessMs),
              });
            return pass.count;
          },
          settings.PROMOTE_BATCH_SIZE,
          signal,
        );
      },
      log,
    ),
    new PeriodicRoutine(
      'schedules',
      settings.SCHEDULER_INTERVAL_MS,
      async (signal) => {
        await untilExhausted(
          async () => {
            const pass = await runDueSchedules(
              db,
              names,
              {
                batchSize: SCHEDULES_PER_PASS,
                misfireGraceMs: settings.SCHEDULE_MISFIRE_GRACE_MS,
                maxTicksPerPass: MAX_TICKS_PER_PASS,
                events: settings.JOB_EVENTS,
              },
              log,
            );
            created.inc(pass.jobs);
            skipped.inc(pass.skipped);
            void deps.sendNow(pass.outbox);
            if (pass.jobs > 0 || pass.skipped > 0) log.info('schedule ticks', { ...pass, outbox: undefined });
            return pass.schedules;
          },
          SCHEDULES_PER_PASS,
          signal,
        );
      },
      log,
    ),
  ];
}
