import { sql, type Database, type Kysely } from '@conveyor/database';

/** How long a cached secret list is trusted without a newer version showing up: a backstop for hand edits. */
const MAX_CACHE_AGE_MS = 60_000;

interface CachedSecrets {
  /** The newest webhook_secrets id of the client when read (0: none stored). */
  version: number;
  secrets: string[];
  /** Until the first of the secrets expires, or MAX_CACHE_AGE_MS (Date.now() ms). */
  validUntil: number;
}

/**
 * Signing secrets per client; during a rotation the previous one stays valid until it expires.
 *
 * Lists are cached per client, keyed by the newest secret id: deliveries are claimed with their
 * client's current version (LeasedWebhookDelivery.secretsVersion), so a rotation (a new row, hence a
 * higher id) invalidates the cache for the next delivery leased after it, in any process. An
 * entry also lapses when its first secret expires.
 */
export class WebhookSecretStore {
  private readonly cache = new Map<string, CachedSecrets>();
  private readonly reading = new Map<string, Promise<CachedSecrets>>();

  constructor(
    private readonly db: Kysely<Database>,
    /** The default client's secret when it has none stored (WEBHOOK_SECRET). */
    private readonly defaultSecret: string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The secrets to sign with, current first. With `atLeastVersion` (the version read along with
   * the delivery) a cached list that new is used; without it the database is always asked.
   */
  async secretsFor(clientId: string, atLeastVersion?: number): Promise<string[]> {
    const cached = this.cache.get(clientId);
    if (
      cached &&
      atLeastVersion !== undefined &&
      cached.version >= atLeastVersion &&
      this.now() < cached.validUntil
    )
      return cached.secrets;
    return (await this.read(clientId)).secrets;
  }

  /** Issues a new secret; the current ones stay valid for `overlapMs` so receivers can switch. */
  async rotate(clientId: string, newSecret: string, overlapMs: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const current = await trx
        .selectFrom('webhook_secrets')
        .select('id')
        .where('client_id', '=', clientId)
        .where('expires_at', 'is', null)
        .execute();
      if (current.length === 0 && clientId === 'default' && this.defaultSecret) {
        await trx
          .insertInto('webhook_secrets')
          .values({
            client_id: clientId,
            secret: this.defaultSecret,
            expires_at: sql<Date>`now() + make_interval(secs => ${overlapMs / 1000})`,
          })
          .execute();
      }
      await trx
        .updateTable('webhook_secrets')
        .set({ expires_at: sql<Date>`now() + make_interval(secs => ${overlapMs / 1000})` })
        .where('client_id', '=', clientId)
        .where('expires_at', 'is', null)
        .execute();
      await trx
        .insertInto('webhook_secrets')
        .values({ client_id: clientId, secret: newSecret, expires_at: null })
        .execute();
    });
    this.cache.delete(clientId);
  }

  /** One read per client at a time; concurrent callers share it. */
  private read(clientId: string): Promise<CachedSecrets> {
    let reading = this.reading.get(clientId);
    if (!reading) {
      reading = this.load(clientId).finally(() => this.reading.delete(clientId));
      this.reading.set(clientId, reading);
    }
    return reading;
  }

  private async load(clientId: string): Promise<CachedSecrets> {
    const readAt = this.now();
    const rows = await this.db
      .selectFrom('webhook_secrets')
      .select([
        'id',
        'secret',
        sql<boolean>`expires_at is null or expires_at > now()`.as('valid'),
        sql<number | null>`extract(epoch from expires_at - now()) * 1000`.as('ms_left'),
      ])
      .where('client_id', '=', clientId)
      .orderBy('id', 'desc')
      .execute();
    const valid = rows.filter((r) => r.valid);
    const firstExpiry = Math.min(
      MAX_CACHE_AGE_MS,
      ...valid.flatMap((r) => (r.ms_left === null ? [] : [Number(r.ms_left)])),
    );
    const secrets =
      valid.length > 0
        ? valid.map((r) => r.secret)
        : clientId === 'default' && this.defaultSecret
          ? [this.defaultSecret]
          : [];
    const entry = { version: Number(rows[0]?.id ?? 0), secrets, validUntil: readAt + firstExpiry };
    this.cache.set(clientId, entry);
    return entry;
  }
}
