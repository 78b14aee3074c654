import { sql, type Database, type Kysely } from '@conveyor/database';

export interface BacklogCounts {
  /** Outbox rows not yet relayed to the broker. */
  outbox: number;
  /** Webhook deliveries still to make: pending (due or waiting for a retry) or being sent. */
  pendingDeliveries: number;
  /** Dead letters kept in PostgreSQL (the intake moves the dead-letter queue there). */
  deadLetters: number;
}

/**
 * The backlogs in one round trip, each counted up to `cap` rows: a scrape must stay cheap
 * however far behind the relay or the notifier is, and past the cap the figure only has to say
 * "huge". The deliveries count reads the partial index of open deliveries only.
 */
export async function countBacklogs(db: Kysely<Database>, cap: number): Promise<BacklogCounts> {
  const { rows } = await sql<BacklogCounts>`
    select
      (select count(*) from (select 1 from outbox limit ${cap}) capped)::int as outbox,
      (select count(*) from (
        select 1 from webhook_deliveries where status in ('pending', 'sending') limit ${cap}
      ) capped)::int as "pendingDeliveries",
      (select count(*) from (select 1 from dead_letters limit ${cap}) capped)::int as "deadLetters"`.execute(
    db,
  );
  return rows[0]!;
}
