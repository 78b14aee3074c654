import { randomUUID } from 'node:crypto';
import { sql, type Database, type Kysely } from '@conveyor/database';
import type { CronTicks } from './cron-ticks.js';
import { toScheduleRecord, type ScheduleRecord } from './schedule-record.js';

/** What a new schedule is made of (its input already checked against the kind's rules, in canonical form). */
export type NewSchedule = Pick<
  ScheduleRecord,
  | 'clientId'
  | 'customId'
  | 'requestHash'
  | 'cron'
  | 'timezone'
  | 'kind'
  | 'input'
  | 'callbackUrl'
  | 'jobRequestHash'
  | 'overlap'
  | 'catchUp'
>;

/**
 * A client's schedules: create, read, list, pause, resume, delete. Every read and change is
 * scoped to the client (another client's schedule is not found). The ticks themselves are the
 * scheduler's (schedule-ticker.ts).
 */
export class ScheduleStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Creates a schedule whose first tick is the cron's first time after now, or returns the
   * client's schedule with the same customId (created = false; the caller compares requests).
   */
  async create(
    schedule: NewSchedule,
    ticks: CronTicks,
  ): Promise<{ schedule: ScheduleRecord; created: boolean }> {
    const row = await this.db
      .insertInto('schedules')
      .values({
        id: randomUUID(),
        client_id: schedule.clientId,
        custom_id: schedule.customId,
        request_hash: schedule.requestHash,
        cron: schedule.cron,
        timezone: schedule.timezone,
        kind: schedule.kind,
        input: JSON.stringify(schedule.input),
        callback_url: schedule.callbackUrl,
        job_request_hash: schedule.jobRequestHash,
        overlap: schedule.overlap,
        catch_up: schedule.catchUp,
        next_run_at: ticks.after(new Date()),
      })
      .onConflict((oc) =>
        oc.columns(['client_id', 'custom_id']).where('custom_id', 'is not', null).doNothing(),
      )
      .returningAll()
      .executeTakeFirst();
    if (row) return { schedule: toScheduleRecord(row), created: true };
    const existing = await this.db
      .selectFrom('schedules')
      .selectAll()
      .where('client_id', '=', schedule.clientId)
      .where('custom_id', '=', schedule.customId)
      .executeTakeFirst();
    if (!existing) throw new Error(`schedule with customId ${schedule.customId} vanished during creation`);
    return { schedule: toScheduleRecord(existing), created: false };
  }

  async get(id: string, clientId: string): Promise<ScheduleRecord | undefined> {
    const row = await this.db
      .selectFrom('schedules')
      .selectAll()
      .where('id', '=', id)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return row && toScheduleRecord(row);
  }

  /** Newest first; `after` continues from the last id of the previous page. */
  async list(
    clientId: string,
    filter: { limit: number; after?: string | undefined },
  ): Promise<ScheduleRecord[]> {
    let query = this.db.selectFrom('schedules').selectAll().where('client_id', '=', clientId);
    if (filter.after !== undefined) {
      const after = filter.after;
      query = query.where(({ eb, refTuple, selectFrom }) =>
        eb(
          refTuple('created_at', 'id'),
          '<',
          selectFrom('schedules as cursor')
            .select(['cursor.created_at', 'cursor.id'])
            .where('cursor.id', '=', after)
            .$asTuple('created_at', 'id'),
        ),
      );
    }
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(filter.limit)
      .execute();
    return rows.map(toScheduleRecord);
  }

  /** Stops the ticks; the scheduler skips a paused schedule from its next pass on (one under way may still fire). */
  async pause(id: string, clientId: string): Promise<ScheduleRecord | undefined> {
    const row = await this.db
      .updateTable('schedules')
      .set({ paused: true, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('client_id', '=', clientId)
      .returningAll()
      .executeTakeFirst();
    return row && toScheduleRecord(row);
  }

  /** Resumes from the cron's first time after now: ticks that fell in the pause are not caught up. */
  async resume(id: string, clientId: string, ticks: CronTicks): Promise<ScheduleRecord | undefined> {
    const row = await this.db
      .updateTable('schedules')
      .set((eb) => ({
        next_run_at: eb
          .case()
          .when('paused', '=', true)
          .then(ticks.after(new Date()))
          .else(eb.ref('next_run_at'))
          .end(),
        paused: false,
        updated_at: sql<Date>`now()`,
      }))
      .where('id', '=', id)
      .where('client_id', '=', clientId)
      .returningAll()
      .executeTakeFirst();
    return row && toScheduleRecord(row);
  }

  /** Deletes the schedule (its jobs stay); false when the client has no such schedule. */
  async delete(id: string, clientId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('schedules')
      .where('id', '=', id)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
