import { z } from 'zod';
import { CustomId, JobKind } from './jobs.js';

/**
 * What a tick does while the schedule's previous job has not finished: `skip` creates no job
 * for it, `allow` creates one anyway (jobs of one schedule may then run side by side).
 */
export const ScheduleOverlap = z.enum(['skip', 'allow']);
export type ScheduleOverlap = z.infer<typeof ScheduleOverlap>;

/**
 * What happens to ticks missed while no scheduler ran (downtime): `none` drops them, `latest`
 * runs the most recent one once the scheduler is back. Ticks during a pause are never caught up.
 */
export const ScheduleCatchUp = z.enum(['none', 'latest']);
export type ScheduleCatchUp = z.infer<typeof ScheduleCatchUp>;

/** `POST /v1/schedules`. The cron and time zone are checked by the cron library after this. */
export const CreateScheduleRequest = z
  .strictObject({
    /** 5 fields (minute precision) or 6 (a leading seconds field), as croner reads them. */
    cron: z.string().min(1).max(200),
    /** An IANA time zone name (`Europe/Berlin`); the cron's times are wall-clock times there. */
    timezone: z.string().min(1).max(100).default('UTC'),
    kind: JobKind,
    input: z.unknown(),
    overlap: ScheduleOverlap.default('skip'),
    catchUp: ScheduleCatchUp.default('none'),
    callbackUrl: z.string().max(2048).optional(),
    /** The client's own id for the schedule: the same id with the same request finds it again. */
    customId: CustomId.optional(),
  })
  .meta({ id: 'CreateScheduleRequest' });
export type CreateScheduleRequest = z.infer<typeof CreateScheduleRequest>;

const Timestamp = z.iso.datetime({ offset: true });

/** A schedule as the API shows it. */
export const Schedule = z
  .object({
    id: z.uuid(),
    customId: z.string().nullable(),
    cron: z.string(),
    timezone: z.string(),
    kind: JobKind,
    input: z.unknown(),
    overlap: ScheduleOverlap,
    catchUp: ScheduleCatchUp,
    callbackUrl: z.string().nullable(),
    paused: z.boolean(),
    /** The next tick the scheduler will act on; null when the cron has no future time. */
    nextRunAt: Timestamp.nullable(),
    /** The latest tick acted on, and the job it created (null when none or skipped). */
    lastTickAt: Timestamp.nullable(),
    lastJobId: z.uuid().nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: 'Schedule' });
export type Schedule = z.infer<typeof Schedule>;

/** `GET /v1/schedules/{id}`: the schedule and its next few run times (while not paused). */
export const ScheduleDetail = Schedule.extend({ nextRunTimes: z.array(Timestamp) }).meta({
  id: 'ScheduleDetail',
});
export type ScheduleDetail = z.infer<typeof ScheduleDetail>;

export const ScheduleListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(500).optional(),
});
export type ScheduleListQuery = z.infer<typeof ScheduleListQuery>;

export const SchedulePage = z
  .object({ schedules: z.array(Schedule), nextCursor: z.string().nullable() })
  .meta({ id: 'SchedulePage' });
export type SchedulePage = z.infer<typeof SchedulePage>;

/**
 * The customId of the job a schedule's tick creates: unique per client, so a second insert for
 * the same tick (another scheduler replica, a retried pass) is a no-op.
 */
export function scheduleTickKey(scheduleId: string, tick: Date): string {
  return `schedule:${scheduleId}:${tick.toISOString()}`;
}
