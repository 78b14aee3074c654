import { ScheduleCatchUp, ScheduleOverlap, type Schedule } from '@conveyor/contracts';
import type { ScheduleRow } from '@conveyor/database';

/** A schedule as the services work with it; rows never leave the repository. */
export interface ScheduleRecord {
  id: string;
  clientId: string;
  customId: string | null;
  /** What makes two creations with one customId "the same request". */
  requestHash: string;
  cron: string;
  timezone: string;
  kind: string;
  input: unknown;
  callbackUrl: string | null;
  /** The request hash each tick's job is created with. */
  jobRequestHash: string;
  overlap: ScheduleOverlap;
  catchUp: ScheduleCatchUp;
  paused: boolean;
  nextRunAt: Date | null;
  lastTickAt: Date | null;
  lastJobId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export function toScheduleRecord(row: ScheduleRow): ScheduleRecord {
  return {
    id: row.id,
    clientId: row.client_id,
    customId: row.custom_id,
    requestHash: row.request_hash,
    cron: row.cron,
    timezone: row.timezone,
    kind: row.kind,
    input: row.input,
    callbackUrl: row.callback_url,
    jobRequestHash: row.job_request_hash,
    overlap: ScheduleOverlap.parse(row.overlap),
    catchUp: ScheduleCatchUp.parse(row.catch_up),
    paused: row.paused,
    nextRunAt: row.next_run_at,
    lastTickAt: row.last_tick_at,
    lastJobId: row.last_job_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The API's view of a schedule. */
export function toApiSchedule(schedule: ScheduleRecord): Schedule {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: schedule.id,
    customId: schedule.customId,
    cron: schedule.cron,
    timezone: schedule.timezone,
    kind: schedule.kind,
    input: schedule.input,
    overlap: schedule.overlap,
    catchUp: schedule.catchUp,
    callbackUrl: schedule.callbackUrl,
    paused: schedule.paused,
    nextRunAt: iso(schedule.nextRunAt),
    lastTickAt: iso(schedule.lastTickAt),
    lastJobId: schedule.lastJobId,
    createdAt: schedule.createdAt.toISOString(),
    updatedAt: schedule.updatedAt.toISOString(),
  };
}
