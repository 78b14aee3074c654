import type { Kysely } from 'kysely';

/**
 * A job's own timeout and most attempts, when its submit asked for them (within its kind's);
 * null means its kind's. Nullable without a default: adding them rewrites nothing.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('jobs')
    .addColumn('timeout_ms', 'integer')
    .addColumn('max_attempts', 'integer')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('jobs').dropColumn('timeout_ms').dropColumn('max_attempts').execute();
}
