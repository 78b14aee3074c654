import { sql, type Database, type Kysely } from '@conveyor/database';
import { z } from 'zod';

/** The PostgreSQL channel pauses and resumes are announced on, to every worker host of every schema. */
export const PAUSED_KINDS_CHANNEL = 'conveyor_paused_kinds';

/**
 * Which kinds of work (`object-check` or a job kind) worker hosts must not consume: a row per
 * paused kind. A change announces itself on PAUSED_KINDS_CHANNEL inside its transaction, so
 * hosts hear of it when (and only if) it commits; hosts re-read the table now and then as well,
 * for a notification missed while their listener was down.
 */
export class PausedKinds {
  constructor(private readonly db: Kysely<Database>) {}

  async list(): Promise<Set<string>> {
    const rows = await this.db.selectFrom('paused_kinds').select('kind').execute();
    return new Set(rows.map((row) => row.kind));
  }

  async pause(kind: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('paused_kinds')
        .values({ kind })
        .onConflict((oc) => oc.column('kind').doNothing())
        .execute();
      await announce(trx, kind);
    });
  }

  async resume(kind: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('paused_kinds').where('kind', '=', kind).execute();
      await announce(trx, kind);
    });
  }
}

async function announce(db: Kysely<Database>, kind: string): Promise<void> {
  // The schema goes in the payload: hosts of other stacks (or tests) on the same database ignore it.
  await sql`select pg_notify(${PAUSED_KINDS_CHANNEL}, json_build_object('schema', current_schema(), 'kind', ${kind}::text)::text)`.execute(
    db,
  );
}

const PauseNotice = z.object({ schema: z.string(), kind: z.string() });

/** Whether a notification on PAUSED_KINDS_CHANNEL is about `schema`. */
export function isPauseNoticeFor(payload: string, schema: string): boolean {
  try {
    const notice = PauseNotice.safeParse(JSON.parse(payload));
    return notice.success && notice.data.schema === schema;
  } catch {
    return false;
  }
}
