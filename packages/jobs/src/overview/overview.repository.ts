import type { Overview } from '@conveyor/contracts';
import { sql, type Database, type Kysely } from '@conveyor/database';

/**
 * The backlogs an operator watches besides the jobs: stored objects (a table the TTL keeps
 * small), the outbox, webhook deliveries still to make and dead letters. One statement.
 */
export async function readBacklogs(db: Kysely<Database>): Promise<Omit<Overview, 'jobs'>> {
  const { rows } = await sql<{
    objects: string;
    oldest_seen: Date | null;
    newest_seen: Date | null;
    outbox: string;
    pending_deliveries: string;
    dead_letters: string;
    now: Date;
  }>`select
      (select count(*) from objects) as objects,
      (select min(last_seen) from objects) as oldest_seen,
      (select max(last_seen) from objects) as newest_seen,
      (select count(*) from outbox) as outbox,
      (select count(*) from webhook_deliveries where status in ('pending', 'sending')) as pending_deliveries,
      (select count(*) from dead_letters) as dead_letters,
      now() as now`.execute(db);
  const row = rows[0];
  if (!row) throw new Error('the overview query returned no row');
  return {
    objects: {
      count: Number(row.objects),
      oldestSeenAt: row.oldest_seen?.toISOString() ?? null,
      newestSeenAt: row.newest_seen?.toISOString() ?? null,
    },
    outboxDepth: Number(row.outbox),
    pendingWebhookDeliveries: Number(row.pending_deliveries),
    deadLetters: Number(row.dead_letters),
    at: row.now.toISOString(),
  };
}
