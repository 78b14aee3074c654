import { randomUUID } from 'node:crypto';
import type { JobEvent } from '@conveyor/contracts';
import { sql, type Database, type DeliveryRow, type Kysely, type Transaction } from '@conveyor/database';

/** Results larger than this are linked (resultUrl), not inlined in the webhook body. */
export const MAX_INLINE_RESULT_BYTES = 16 * 1024;

/** The JSON body pushed to a client's webhook for one job event. */
export function webhookPayload(event: JobEvent, publicBaseUrl: string): Record<string, unknown> {
  const result = event.result === null ? null : JSON.stringify(event.result);
  const inline = result !== null && Buffer.byteLength(result) <= MAX_INLINE_RESULT_BYTES;
  return {
    eventId: event.eventId,
    jobId: event.jobId,
    customId: event.customId,
    kind: event.kind,
    status: event.status,
    sequence: event.sequence,
    progress: event.progress,
    ...(result === null ? { result: null } : inline ? { result: event.result } : { resultUrl: `${publicBaseUrl}/v1/jobs/${event.jobId}` }),
    error: event.error,
    occurredAt: event.occurredAt,
  };
}

export interface Delivery {
  id: string;
  jobId: string;
  clientId: string;
  sequence: number;
  url: string;
  payload: string;
  attempts: number;
  status: DeliveryRow['status'];
}

export interface AttemptRecord {
  attempt: number;
  startedAt: Date;
  statusCode: number | null;
  latencyMs: number;
  responseSnippet: string | null;
  error: string | null;
}

export type AttemptOutcome =
  | { type: 'delivered' }
  | { type: 'retry'; nextAttemptAt: Date }
  | { type: 'failed' }
  | { type: 'gone' }
  /** Not attempted (endpoint busy or its circuit open): back to pending, no attempt counted. */
  | { type: 'deferred'; nextAttemptAt: Date };

function toDelivery(row: DeliveryRow): Delivery {
  return {
    id: row.id,
    jobId: row.job_id,
    clientId: row.client_id,
    sequence: row.sequence,
    url: row.url,
    payload: row.payload,
    attempts: row.attempts,
    status: row.status,
  };
}

/**
 * Webhook deliveries in PostgreSQL, the notifier's source of truth. Ordering per job: a
 * delivery is claimable only when no older delivery of the same job is still pending or being
 * sent, and a new event supersedes older ones that have not gone out yet because they are
 * waiting for a retry.
 */
export class DeliveryStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records the delivery for an event (idempotent per event id) and supersedes older waiting ones. */
  async recordEvent(event: JobEvent & { callbackUrl: string }, payload: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Events of one job can reach the notifier out of order (their publishes race); recording
      // them one job at a time lets a late, older event see the newer one and stand down, so a
      // receiver never gets sequence 40 after 41.
      await sql`select pg_advisory_xact_lock(hashtext(${`webhook-job:${event.jobId}`}))`.execute(trx);
      const newer = await trx
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('job_id', '=', event.jobId)
        .where('sequence', '>', event.sequence)
        .limit(1)
        .executeTakeFirst();
      const gone = await trx.selectFrom('webhook_gone_urls').select('url').where('url', '=', event.callbackUrl).executeTakeFirst();
      const status = gone ? 'gone' : newer ? 'superseded' : 'pending';
      await trx
        .insertInto('webhook_deliveries')
        .values({
          id: `msg_${randomUUID().replaceAll('-', '')}`,
          job_id: event.jobId,
          client_id: event.clientId,
          event_id: event.eventId,
          sequence: event.sequence,
          url: event.callbackUrl,
          payload,
          status,
          lease_until: null,
          last_status_code: null,
          last_error: gone ? 'the endpoint answered 410 Gone earlier' : newer ? 'a newer status of the job arrived first' : null,
          delivered_at: null,
        })
        .onConflict((oc) => oc.column('event_id').where('event_id', 'is not', null).doNothing())
        .execute();
      await this.supersedeOlder(trx, event.jobId, event.sequence);
    });
  }

  /** A fresh delivery of the job's latest event (manual redelivery), with a new webhook id. */
  async redeliver(jobId: string, clientId: string, sequence: number, url: string, payload: string): Promise<string> {
    const id = `msg_${randomUUID().replaceAll('-', '')}`;
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('webhook_gone_urls').where('url', '=', url).execute();
      await trx
        .insertInto('webhook_deliveries')
        .values({ id, job_id: jobId, client_id: clientId, event_id: null, sequence, url, payload, status: 'pending', lease_until: null, last_status_code: null, last_error: null, delivered_at: null })
        .execute();
      await this.supersedeOlder(trx, jobId, sequence, id);
    });
    return id;
  }

  /**
   * Claims due deliveries under a lease: pending ones whose time has come, and sending ones
   * whose lease ran out (their notifier died mid-delivery).
   */
  async claimDue(limit: number, leaseMs: number): Promise<Delivery[]> {
    if (limit <= 0) return [];
    // A delivery recorded while its URL was answering 410 for the first time can miss that
    // news; settle such stragglers here so nothing is ever sent to a URL that said it is gone.
    await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'gone', last_error: 'the endpoint answered 410 Gone earlier', updated_at: sql<Date>`now()` })
      .where('status', '=', 'pending')
      .where('url', 'in', (eb) => eb.selectFrom('webhook_gone_urls').select('url'))
      .execute();
    const rows = await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'sending', lease_until: sql<Date>`now() + make_interval(secs => ${leaseMs / 1000})`, updated_at: sql<Date>`now()` })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('webhook_deliveries as d')
          .select('d.id')
          .where((w) =>
            w.or([
              w.and([w('d.status', '=', 'pending'), w('d.next_attempt_at', '<=', sql<Date>`now()`)]),
              w.and([w('d.status', '=', 'sending'), w('d.lease_until', '<', sql<Date>`now()`)]),
            ]),
          )
          // Never to a URL that has answered 410, even for a row recorded a moment too early to know.
          .where(({ not, exists, selectFrom }) => not(exists(selectFrom('webhook_gone_urls as g').select('g.url').whereRef('g.url', '=', 'd.url'))))
          .where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('webhook_deliveries as older')
                  .select('older.id')
                  .whereRef('older.job_id', '=', 'd.job_id')
                  .whereRef('older.sequence', '<', 'd.sequence')
                  .where('older.status', 'in', ['pending', 'sending']),
              ),
            ),
          )
          .orderBy('d.next_attempt_at')
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .execute();
    return rows.map(toDelivery);
  }

  /** Logs one attempt and moves the delivery on, in one transaction. */
  async recordAttempt(delivery: Delivery, attempt: AttemptRecord | undefined, outcome: AttemptOutcome): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (attempt) {
        await trx
          .insertInto('webhook_attempts')
          .values({
            delivery_id: delivery.id,
            attempt: attempt.attempt,
            started_at: attempt.startedAt,
            status_code: attempt.statusCode,
            latency_ms: attempt.latencyMs,
            response_snippet: attempt.responseSnippet,
            error: attempt.error,
          })
          .execute();
      }
      const common = {
        lease_until: null,
        updated_at: sql<Date>`now()`,
        ...(attempt && { attempts: attempt.attempt, last_status_code: attempt.statusCode, last_error: attempt.error }),
      };
      switch (outcome.type) {
        case 'delivered':
          await trx.updateTable('webhook_deliveries').set({ ...common, status: 'delivered', delivered_at: sql<Date>`now()` }).where('id', '=', delivery.id).execute();
          return;
        case 'retry':
        case 'deferred':
          // Back to pending unless a newer event superseded it meanwhile.
          await trx
            .updateTable('webhook_deliveries')
            .set({ ...common, status: 'pending', next_attempt_at: outcome.nextAttemptAt })
            .where('id', '=', delivery.id)
            .where('status', '=', 'sending')
            .execute();
          return;
        case 'failed':
          await trx.updateTable('webhook_deliveries').set({ ...common, status: 'failed' }).where('id', '=', delivery.id).execute();
          return;
        case 'gone':
          await trx.insertInto('webhook_gone_urls').values({ url: delivery.url }).onConflict((oc) => oc.column('url').doNothing()).execute();
          await trx
            .updateTable('webhook_deliveries')
            .set({ status: 'gone', lease_until: null, updated_at: sql<Date>`now()` })
            .where('url', '=', delivery.url)
            .where('status', 'in', ['pending', 'sending'])
            .execute();
          await trx.updateTable('webhook_deliveries').set({ ...common, status: 'gone' }).where('id', '=', delivery.id).execute();
          return;
        default: {
          const unknownOutcome: never = outcome;
          throw new Error(`unknown outcome ${JSON.stringify(unknownOutcome)}`);
        }
      }
    });
  }

  /** A job's deliveries with their attempts, newest first. */
  async listForJob(jobId: string): Promise<(Delivery & { createdAt: Date; deliveredAt: Date | null; lastStatusCode: number | null; lastError: string | null; attemptLog: AttemptRecord[] })[]> {
    const deliveries = await this.db.selectFrom('webhook_deliveries').selectAll().where('job_id', '=', jobId).orderBy('created_at', 'desc').orderBy('sequence', 'desc').execute();
    if (deliveries.length === 0) return [];
    const attempts = await this.db
      .selectFrom('webhook_attempts')
      .selectAll()
      .where(
        'delivery_id',
        'in',
        deliveries.map((d) => d.id),
      )
      .orderBy('id')
      .execute();
    return deliveries.map((row) => ({
      ...toDelivery(row),
      createdAt: row.created_at,
      deliveredAt: row.delivered_at,
      lastStatusCode: row.last_status_code,
      lastError: row.last_error,
      attemptLog: attempts
        .filter((a) => a.delivery_id === row.id)
        .map((a) => ({ attempt: a.attempt, startedAt: a.started_at, statusCode: a.status_code, latencyMs: a.latency_ms, responseSnippet: a.response_snippet, error: a.error })),
    }));
  }

  private async supersedeOlder(trx: Transaction<Database>, jobId: string, sequence: number, exceptId?: string): Promise<void> {
    let query = trx
      .updateTable('webhook_deliveries')
      .set({ status: 'superseded', updated_at: sql<Date>`now()` })
      .where('job_id', '=', jobId)
      .where('sequence', '<=', sequence)
      .where('status', '=', 'pending')
      // Only a delivery already failing (waiting out a retry) gives way: a healthy receiver
      // still gets every status, in order; one that was down gets the latest, not a backlog.
      .where('attempts', '>', 0);
    if (exceptId) query = query.where('id', '!=', exceptId);
    else query = query.where('sequence', '<', sequence);
    await query.execute();
  }
}

/** Signing secrets per client; during a rotation the previous one stays valid until it expires. */
export class WebhookSecretStore {
  constructor(
    private readonly db: Kysely<Database>,
    /** The default client's secret when it has none stored (WEBHOOK_SECRET). */
    private readonly defaultSecret: string | undefined,
  ) {}

  async secretsFor(clientId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('webhook_secrets')
      .select('secret')
      .where('client_id', '=', clientId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
      .orderBy('id', 'desc')
      .execute();
    if (rows.length > 0) return rows.map((r) => r.secret);
    return clientId === 'default' && this.defaultSecret ? [this.defaultSecret] : [];
  }

  /** Issues a new secret; the current ones stay valid for `overlapMs` so receivers can switch. */
  async rotate(clientId: string, newSecret: string, overlapMs: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const current = await trx.selectFrom('webhook_secrets').select('id').where('client_id', '=', clientId).where('expires_at', 'is', null).execute();
      if (current.length === 0 && clientId === 'default' && this.defaultSecret) {
        await trx.insertInto('webhook_secrets').values({ client_id: clientId, secret: this.defaultSecret, expires_at: sql<Date>`now() + make_interval(secs => ${overlapMs / 1000})` }).execute();
      }
      await trx
        .updateTable('webhook_secrets')
        .set({ expires_at: sql<Date>`now() + make_interval(secs => ${overlapMs / 1000})` })
        .where('client_id', '=', clientId)
        .where('expires_at', 'is', null)
        .execute();
      await trx.insertInto('webhook_secrets').values({ client_id: clientId, secret: newSecret, expires_at: null }).execute();
    });
  }
}
