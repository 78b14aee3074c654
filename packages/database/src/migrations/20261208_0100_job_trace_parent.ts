import type { Kysely } from 'kysely';

/**
 * The W3C `traceparent` of the request that created a job, when tracing is on: the work message
 * carries it in its headers, but a message re-sent from the outbox or by a dispatcher's recovery
 * has none, and the notifier's webhook attempts are read from rows long after the request. Null
 * (and never written) with tracing off; nullable without a default, so adding it rewrites nothing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('trace_parent', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('jobs').dropColumn('trace_parent').execute();
}
