import { sql, type Database, type Kysely } from '@conveyor/database';

/** A response kept to be replayed to a repeat of its request. */
export interface StoredResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What a request with a key may do: run (it holds the key now), replay, or be refused. */
export type Claim =
  | { type: 'claimed' }
  | { type: 'replay'; response: StoredResponse }
  | { type: 'in-progress' }
  | { type: 'mismatch' };

export interface IdempotencyStoreOptions {
  /** How long a key and its response are kept (the draft's "expiry"). */
  ttlMs: number;
  /**
   * A request holding its key this long without an answer is taken for dead (its producer
   * crashed): a repeat of the same request may run again. A job it had committed stays; with a
   * customId the repeat finds it rather than making a second one.
   */
  abandonAfterMs: number;
}

/** Idempotency keys in PostgreSQL, so every producer replica answers a repeat the same way. */
export class IdempotencyStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: IdempotencyStoreOptions,
  ) {}

  /**
   * Takes the key for this request in one statement: a new key, an expired one, or one whose
   * holder was abandoned with the same request. Otherwise reads what the key holds.
   */
  async claim(scope: string, key: string, fingerprint: string): Promise<Claim> {
    const { ttlMs, abandonAfterMs } = this.options;
    const { rows } = await sql<{ key: string }>`
      insert into idempotency_keys (scope, key, fingerprint, status, locked_at, expires_at)
      values (${scope}, ${key}, ${fingerprint}, 'in_progress', now(), now() + ${ttlMs} * interval '1 millisecond')
      on conflict (scope, key) do update
        set fingerprint = excluded.fingerprint, status = 'in_progress', locked_at = now(),
            expires_at = excluded.expires_at, response_status = null, response_headers = null, response_body = null
        where idempotency_keys.expires_at < now()
           or (idempotency_keys.status = 'in_progress' and idempotency_keys.fingerprint = excluded.fingerprint
               and idempotency_keys.locked_at < now() - ${abandonAfterMs} * interval '1 millisecond')
      returning key`.execute(this.db);
    if (rows.length > 0) return { type: 'claimed' };
    const held = await this.db
      .selectFrom('idempotency_keys')
      .select(['fingerprint', 'status', 'response_status', 'response_headers', 'response_body'])
      .where('scope', '=', scope)
      .where('key', '=', key)
      .executeTakeFirst();
    // Gone between the two statements (pruned the instant it expired): the request may run.
    if (!held) return this.claim(scope, key, fingerprint);
    if (held.fingerprint !== fingerprint) return { type: 'mismatch' };
    if (held.status !== 'done' || held.response_status === null || held.response_body === null)
      return { type: 'in-progress' };
    return {
      type: 'replay',
      response: {
        status: held.response_status,
        headers: held.response_headers ?? {},
        body: held.response_body,
      },
    };
  }

  /** Keeps the answer for repeats of the request. */
  async complete(scope: string, key: string, response: StoredResponse): Promise<void> {
    await this.db
      .updateTable('idempotency_keys')
      .set({
        status: 'done',
        locked_at: null,
        response_status: response.status,
        response_headers: JSON.stringify(response.headers),
        response_body: response.body,
      })
      .where('scope', '=', scope)
      .where('key', '=', key)
      .execute();
  }

  /** Frees the key after a failure that says nothing about the request (a 5xx): a repeat runs it again. */
  async release(scope: string, key: string): Promise<void> {
    await this.db.deleteFrom('idempotency_keys').where('scope', '=', scope).where('key', '=', key).execute();
  }
}
