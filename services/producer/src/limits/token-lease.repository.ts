import { sql, type Database, type Kysely } from '@conveyor/database';

export interface Lease {
  /** Tokens granted to this replica (0 when the window's quota is spent). */
  granted: number;
  /** The window's tokens handed out so far, by every replica. */
  used: number;
}

/**
 * Takes up to `wanted` tokens of a client's window in one statement: the row's `used` never
 * passes `limit`, whichever replicas ask at once (the row lock orders them). `last_grant` is how
 * the statement reports what it granted, since RETURNING sees only the new row.
 */
export async function leaseTokens(
  db: Kysely<Database>,
  key: { clientId: string; bucket: string; windowStart: Date },
  wanted: number,
  limit: number,
): Promise<Lease> {
  const first = Math.min(wanted, limit);
  const { rows } = await sql<{ last_grant: number; used: number }>`
    insert into rate_limit_windows as w (client_id, bucket, window_start, used, last_grant)
    values (${key.clientId}, ${key.bucket}, ${key.windowStart}, ${first}, ${first})
    on conflict (client_id, bucket, window_start) do update
      set last_grant = least(${wanted}::int, greatest(0, ${limit}::int - w.used)),
          used = w.used + least(${wanted}::int, greatest(0, ${limit}::int - w.used))
    returning last_grant, used`.execute(db);
  const row = rows[0];
  return row ? { granted: row.last_grant, used: row.used } : { granted: 0, used: limit };
}
