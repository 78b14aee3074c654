import { randomUUID } from 'node:crypto';
import { isTerminal, JobStatus, scheduleTickKey, type TopologyNames } from '@conveyor/contracts';
import { sql, type Database, type Kysely, type OutboxMessage } from '@conveyor/database';
import type { Logger } from '@conveyor/platform';
import { commitJobInserts, type JobEventPublishing, type JobInsert } from '../job-change.js';
import { jobRunMessage } from '../job-messages.js';
import { parseCron, planTicks } from './cron-ticks.js';
import { toScheduleRecord, type ScheduleRecord } from './schedule-record.js';

export interface ScheduleTickerOptions {
  /** Due schedules handled per transaction. */
  batchSize: number;
  /** A tick found at most this late fires under either catch-up policy (see planTicks). */
  misfireGraceMs: number;
  /** Most ticks of one schedule fired in one pass. */
  maxTicksPerPass: number;
  events: JobEventPublishing;
}

export interface TickerPass {
  /** Schedules acted on. */
  schedules: number;
  /** Jobs created. */
  jobs: number;
  /** Ticks passed over: missed and not caught up, or skipped because the previous job was not final. */
  skipped: number;
  /** The new jobs' work messages and events, committed in the outbox: send them now. */
  outbox: OutboxMessage[];
}

/** What one schedule's turn decided. */
interface Decision {
  schedule: ScheduleRecord;
  fire: Date[];
  skipped: number;
  next: Date | null;
  /** Paused for good: its client's key was revoked, so nobody could pause or delete it any more. */
  pause: boolean;
}

/**
 * One scheduler pass over up to `batchSize` due schedules, in one transaction. Schedules are
 * claimed FOR UPDATE SKIP LOCKED, so replicas running at once share them; and each tick's job
 * has the tick's key as its customId, so even a pass that raced another (clocks apart, a lock
 * lost with its connection) cannot make a tick's job twice: the unique (client_id, custom_id)
 * index turns the second insert into a no-op. There is no leader to elect, so nothing a pause or
 * a dead replica could leave stuck. The jobs, their outbox rows and the schedules' next ticks
 * commit together: a crash mid-pass leaves the ticks due for the next pass.
 */
export async function runDueSchedules(
  db: Kysely<Database>,
  names: TopologyNames,
  options: ScheduleTickerOptions,
  log: Logger,
): Promise<TickerPass> {
  // Most looks find nothing due: one index probe then, without a transaction's two extra round trips.
  const anyDue = await db
    .selectFrom('schedules')
    .select('id')
    .where('paused', '=', false)
    .where('next_run_at', '<=', sql<Date>`now()`)
    .limit(1)
    .executeTakeFirst();
  if (!anyDue) return { schedules: 0, jobs: 0, skipped: 0, outbox: [] };
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('schedules')
      .selectAll()
      .select(sql<Date>`now()`.as('db_now'))
      .select(
        sql<boolean>`exists (select 1 from api_clients c where c.id = schedules.client_id and c.revoked_at is not null)`.as(
          'client_revoked',
        ),
      )
      .where('paused', '=', false)
      .where('next_run_at', '<=', sql<Date>`now()`)
      .orderBy('next_run_at')
      .limit(options.batchSize)
      .forUpdate()
      .skipLocked()
      .execute();
    if (rows.length === 0) return { schedules: 0, jobs: 0, skipped: 0, outbox: [] };
    const now = rows[0]!.db_now;
    const decisions = rows.map(({ db_now: _now, client_revoked: revoked, ...row }) =>
      decide(toScheduleRecord(row), revoked, now, options, log),
    );
    await skipOverlaps(trx, decisions);

    const inserts: { decision: Decision; tick: Date; job: JobInsert }[] = decisions.flatMap((decision) =>
      decision.fire.map((tick) => ({ decision, tick, job: tickJob(names, decision.schedule, tick) })),
    );
    const committed = await commitJobInserts(
      trx,
      names,
      inserts.map((insert) => insert.job),
      options.events,
    );
    const lastJobs = new Map<string, string>();
    inserts.forEach((insert, i) => {
      // A tick whose job already existed (undefined) keeps the schedule's last job as it was.
      if (committed[i]) lastJobs.set(insert.decision.schedule.id, insert.job.id);
    });
    for (const decision of decisions) {
      const { schedule } = decision;
      const lastTick = decision.fire.at(-1);
      await trx
        .updateTable('schedules')
        .set({
          paused: decision.pause,
          next_run_at: decision.next,
          last_tick_at: lastTick ?? schedule.lastTickAt,
          last_job_id: lastJobs.get(schedule.id) ?? schedule.lastJobId,
          updated_at: sql<Date>`now()`,
        })
        .where('id', '=', schedule.id)
        .execute();
    }
    return {
      schedules: decisions.length,
      jobs: committed.filter((c) => c !== undefined).length,
      skipped: decisions.reduce((sum, d) => sum + d.skipped, 0),
      outbox: committed.flatMap((c) => c?.outbox ?? []),
    };
  });
}

function decide(
  schedule: ScheduleRecord,
  clientRevoked: boolean,
  now: Date,
  options: ScheduleTickerOptions,
  log: Logger,
): Decision {
  if (clientRevoked) {
    log.warn('schedule paused: its client was revoked', {
      scheduleId: schedule.id,
      clientId: schedule.clientId,
    });
    return { schedule, fire: [], skipped: 0, next: schedule.nextRunAt, pause: true };
  }
  const parsed = parseCron(schedule.cron, schedule.timezone);
  if (!parsed.ok || schedule.nextRunAt === null) {
    // Checked when created; a time zone the runtime no longer knows stops the schedule, loudly.
    log.error('schedule cannot be computed; it will not tick again', {
      scheduleId: schedule.id,
      error: parsed.ok ? 'no next run' : parsed.message,
    });
    return { schedule, fire: [], skipped: 0, next: null, pause: false };
  }
  const plan = planTicks(parsed.ticks, {
    due: schedule.nextRunAt,
    now,
    catchUp: schedule.catchUp,
    graceMs: options.misfireGraceMs,
    maxTicks: options.maxTicksPerPass,
  });
  return { schedule, ...plan, pause: false };
}

/**
 * overlap: skip — at most one job per pass (the newest tick), and none while the schedule's
 * previous job is not final. Read under the schedule's row lock, so no other pass of this
 * schedule can create a job meanwhile.
 */
async function skipOverlaps(db: Kysely<Database>, decisions: Decision[]): Promise<void> {
  const skipping = decisions.filter((d) => d.schedule.overlap === 'skip' && d.fire.length > 0);
  for (const decision of skipping) {
    decision.skipped += decision.fire.length - 1;
    decision.fire = decision.fire.slice(-1);
  }
  const lastJobIds = skipping.flatMap((d) => (d.schedule.lastJobId ? [d.schedule.lastJobId] : []));
  if (lastJobIds.length === 0) return;
  const rows = await db
    .selectFrom('jobs')
    .select(['id', 'status'])
    .where('id', '=', sql<string>`any(${lastJobIds}::uuid[])`)
    .execute();
  const unfinished = new Set(
    rows.filter((row) => !isTerminal(JobStatus.parse(row.status))).map((row) => row.id),
  );
  for (const decision of skipping) {
    if (decision.schedule.lastJobId === null || !unfinished.has(decision.schedule.lastJobId)) continue;
    decision.skipped += decision.fire.length;
    decision.fire = [];
  }
}

/** The job a tick creates: the schedule's kind, input and callbackUrl, keyed by the tick. */
function tickJob(names: TopologyNames, schedule: ScheduleRecord, tick: Date): JobInsert {
  const id = randomUUID();
  const correlationId = `schedule-${schedule.id}`;
  return {
    id,
    clientId: schedule.clientId,
    kind: schedule.kind,
    customId: scheduleTickKey(schedule.id, tick),
    requestHash: schedule.jobRequestHash,
    input: schedule.input,
    callbackUrl: schedule.callbackUrl,
    correlationId,
    runMessage: jobRunMessage(names, { id, kind: schedule.kind }, correlationId),
    dispatcher: null,
    traceParent: null,
    runAt: null,
    timeoutMs: null,
    maxAttempts: null,
  };
}
