import type { Database, Kysely } from '@conveyor/database';

/** The traceparent of the request that created a job (null when it was not traced or is gone). */
export async function jobTraceParent(db: Kysely<Database>, jobId: string): Promise<string | null> {
  const row = await db.selectFrom('jobs').select('trace_parent').where('id', '=', jobId).executeTakeFirst();
  return row?.trace_parent ?? null;
}
