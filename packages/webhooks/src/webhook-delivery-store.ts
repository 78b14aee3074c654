import { randomBytes } from 'node:crypto';
import type { JobEvent } from '@conveyor/contracts';
import { sql, type Database, type DeliveryRow, type Kysely, type Transaction } from '@conveyor/database';
import { planEventBatch } from './webhook-delivery-batch.js';
import { WebhookDeliveryIdGenerator } from './webhook-delivery-id.js';

export interface WebhookDelivery {
  id: string;
  jobId: string;
  clientId: string;
  sequence: number;
  url: string;
  payload: string;
  attempts: number;
  status: DeliveryRow['status'];
}

/** A delivery this process holds the lease of, ready to send. */
export interface LeasedWebhookDelivery extends WebhookDelivery {
  /**
   * The newest webhook_secrets id of its client when it was leased: a cached secret list at
   * least this new is current (see WebhookSecretStore.secretsFor), so a rotation is seen at once.
   */
  secretsVersion: number;
}

/** A job event to record as a delivery, with the webhook body it will carry. */
export interface EventToRecord {
  event: JobEvent & { callbackUrl: string };
  payload: string;
}

export interface RecordedEvents {
  /** Inserted already leased (`sending`): the caller sends them now, within `leaseMs`. */
  leased: LeasedWebhookDelivery[];
  /** Jobs of the deliveries inserted as `pending` (an older one of the job is ahead, or no lease slot was left). */
  waitingJobIds: string[];
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

/** One attempt (or deferral) of one delivery, as the dispatcher reports it. */
export interface AttemptReport {
  delivery: WebhookDelivery;
  attempt: AttemptRecord | undefined;
  outcome: AttemptOutcome;
}

const GONE_ERROR = 'the endpoint answered 410 Gone earlier';
const NEWER_ERROR = 'a newer status of the job arrived first';

function toWebhookDelivery(row: DeliveryRow): WebhookDelivery {
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

/** Time-ordered, so new rows go to the right edge of the primary-key index (see WebhookDeliveryIdGenerator). */
const deliveryIds = new WebhookDeliveryIdGenerator(Date.now, randomBytes);
const newDeliveryId = (): string => deliveryIds.next();

/** The newest secret id of the delivery's client (0: none stored), read with the delivery. */
const secretsVersionOf = (clientId: ReturnType<typeof sql.ref>) =>
  sql<string>`(select coalesce(max(s.id), 0) from webhook_secrets s where s.client_id = ${clientId})`;

/**
 * Webhook deliveries in PostgreSQL, the notifier's source of truth. Ordering per job: a
 * delivery is claimable only when no older delivery of the same job is still pending or being
 * sent, and a new event supersedes older ones that have not gone out yet because they are
 * waiting for a retry.
 *
 * Locks: recording (record_webhook_events) takes a transaction-scoped advisory lock per job (so a
 * late, older event sees a newer one recorded meanwhile and stands down) and a shared one per URL;
 * settling a URL as gone takes that URL's lock exclusively, so a delivery recorded concurrently is
 * either recorded as gone or committed before the URL's rows are settled, never leased to a gone URL.
 */
export class WebhookDeliveryStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Records the delivery for an event (idempotent per event id) and supersedes older waiting ones. */
  async recordEvent(event: JobEvent & { callbackUrl: string }, payload: string): Promise<void> {
    await this.recordEvents([{ event, payload }]);
  }

  /**
   * Records the deliveries of a batch of events in one statement, as recording them one by one
   * in order would: idempotent per event id, standing down when a newer delivery of the job
   * exists, `gone` for a URL that answered 410, superseding older deliveries that wait for a
   * retry. Up to `leaseUpTo` of them, those with nothing older of their job ahead, are inserted
   * leased for `leaseMs` so the caller can send them without claiming them first.
   */
  async recordEvents(
    items: readonly EventToRecord[],
    options: { leaseUpTo?: number; leaseMs?: number } = {},
  ): Promise<RecordedEvents> {
    const plans = planEventBatch(
      items.map(({ event }) => event),
      options.leaseUpTo ?? 0,
    );
    const rows = items.flatMap(({ event, payload }, i) => {
      const plan = plans[i]!;
      return plan.first ? [{ id: newDeliveryId(), event, payload, plan }] : [];
    });
    if (rows.length === 0) return { leased: [], waitingJobIds: [] };
    const column = <T>(pick: (row: (typeof rows)[number]) => T) => rows.map(pick);
    const leaseSeconds = (options.leaseMs ?? 0) / 1000;
    // One round trip (see the migration that defines it): locks, then the multi-row insert.
    const { rows: inserted } = await sql<{
      delivery_id: string;
      delivery_status: DeliveryRow['status'];
      secrets_version: string | null;
    }>`
      select * from record_webhook_events(
        ${column((r) => r.id)}::text[], ${column((r) => r.event.jobId)}::uuid[], ${column((r) => r.event.clientId)}::text[],
        ${column((r) => r.event.eventId)}::uuid[], ${column((r) => r.event.sequence)}::int[], ${column((r) => r.event.callbackUrl)}::text[],
        ${column((r) => r.payload)}::text[], ${column((r) => r.plan.newerInBatch)}::bool[], ${column((r) => r.plan.mayLease)}::bool[],
        ${leaseSeconds}::float8, ${GONE_ERROR}::text, ${NEWER_ERROR}::text
      )
    `.execute(this.db);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const leased: LeasedWebhookDelivery[] = [];
    const waitingJobIds: string[] = [];
    for (const { delivery_id: id, delivery_status: status, secrets_version } of inserted) {
      const row = byId.get(id)!;
      if (status === 'pending') waitingJobIds.push(row.event.jobId);
      if (status !== 'sending') continue;
      const { event, payload } = row;
      leased.push({
        id,
        jobId: event.jobId,
        clientId: event.clientId,
        sequence: event.sequence,
        url: event.callbackUrl,
        payload,
        attempts: 0,
        status,
        secretsVersion: Number(secrets_version),
      });
    }
    return { leased, waitingJobIds };
  }

  /** A fresh delivery of the job's latest event (manual redelivery), with a new webhook id. */
  async redeliver(
    jobId: string,
    clientId: string,
    sequence: number,
    url: string,
    payload: string,
  ): Promise<string> {
    const id = newDeliveryId();
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('webhook_gone_urls').where('url', '=', url).execute();
      await trx
        .insertInto('webhook_deliveries')
        .values({
          id,
          job_id: jobId,
          client_id: clientId,
          event_id: null,
          sequence,
          url,
          payload,
          status: 'pending',
          lease_until: null,
          last_status_code: null,
          last_error: null,
          delivered_at: null,
        })
        .execute();
      await trx
        .updateTable('webhook_deliveries')
        .set({ status: 'superseded', updated_at: sql<Date>`now()` })
        .where('job_id', '=', jobId)
        .where('sequence', '<=', sequence)
        .where('status', '=', 'pending')
        .where('attempts', '>', 0)
        .where('id', '!=', id)
        .execute();
    });
    return id;
  }

  /**
   * Claims due deliveries under a lease: pending ones whose time has come, and sending ones
   * whose lease ran out (their notifier died mid-delivery).
   */
  async claimDue(limit: number, leaseMs: number): Promise<LeasedWebhookDelivery[]> {
    if (limit <= 0) return [];
    // Plain index scans only: a bitmap scan visits the heap page of every index entry whose row has
    // moved on (one per delivery since the last VACUUM: status changes are never HOT updates) and
    // cannot mark it dead, so each poll got slower as the table grew (3-4.5 ms per statement after
    // 26,000 deliveries); a plain scan marks those entries and every later scan skips them. The
    // planner picks bitmap scans for these statements whenever its statistics are stale.
    return this.db.transaction().execute(async (trx) => {
      await sql`set local enable_bitmapscan = off`.execute(trx);
      // A delivery recorded while its URL was answering 410 for the first time can miss that
      // news; settle such stragglers here so nothing is ever sent to a URL that said it is gone.
      await trx
        .updateTable('webhook_deliveries')
        .set({ status: 'gone', last_error: GONE_ERROR, updated_at: sql<Date>`now()` })
        .where('status', '=', 'pending')
        .where('url', 'in', (eb) => eb.selectFrom('webhook_gone_urls').select('url'))
        .execute();
      // Each way of being due has its own partial index (migration 20261207_0200_webhook_claim_indexes).
      // Never to a URL that has answered 410, even for a row recorded a moment too early to know;
      // never ahead of an older open delivery of the same job.
      const eligible = sql`
        not exists (select 1 from webhook_gone_urls g where g.url = d.url)
        and not exists (select 1 from webhook_deliveries o where o.job_id = d.job_id and o.sequence < d.sequence and o.status in ('pending', 'sending'))
      `;
      const { rows } = await sql<DeliveryRow & { secrets_version: string }>`
        with pending_due as (
          select d.id, d.next_attempt_at from webhook_deliveries d
          where d.status = 'pending' and d.next_attempt_at <= now() and ${eligible}
          order by d.next_attempt_at limit ${limit} for update skip locked
        ),
        lease_expired as (
          select d.id, d.next_attempt_at from webhook_deliveries d
          where d.status = 'sending' and d.lease_until < now() and ${eligible}
          order by d.lease_until limit ${limit} for update skip locked
        ),
        chosen as (
          select c.id from (select * from pending_due union all select * from lease_expired) c order by c.next_attempt_at limit ${limit}
        )
        update webhook_deliveries set status = 'sending', lease_until = now() + make_interval(secs => ${leaseMs / 1000}), updated_at = now()
        where id in (select chosen.id from chosen)
        returning webhook_deliveries.*, ${secretsVersionOf(sql.ref('webhook_deliveries.client_id'))} as secrets_version
      `.execute(trx);
      // Oldest due first, as the dispatcher queues them (RETURNING keeps no order).
      rows.sort((a, b) => a.next_attempt_at.getTime() - b.next_attempt_at.getTime());
      return rows.map((row) => ({ ...toWebhookDelivery(row), secretsVersion: Number(row.secrets_version) }));
    });
  }

  /** Logs one attempt and moves the delivery on. */
  async recordAttempt(
    delivery: WebhookDelivery,
    attempt: AttemptRecord | undefined,
    outcome: AttemptOutcome,
  ): Promise<void> {
    if (outcome.type === 'gone') await this.recordGone(delivery, attempt);
    else await this.recordAttempts([{ delivery, attempt, outcome }]);
  }

  /**
   * Logs a batch of attempts and moves their deliveries on, in one statement (so one commit):
   * delivered, failed, or back to pending for a retry unless a newer event superseded it
   * meanwhile. One going back to pending after a failed attempt gives way to a newer delivery
   * of its job recorded while it was in flight, as recordEvents would have made it give way had
   * it been pending then. A 410 settles the whole URL: report those through recordAttempt.
   */
  async recordAttempts(reports: readonly AttemptReport[]): Promise<void> {
    if (reports.length === 0) return;
    const retried = reports.filter((r) => r.outcome.type === 'retry' || r.outcome.type === 'deferred');
    if (retried.length === 0) return this.updateAttempts(this.db, reports);
    // The job locks record_webhook_events takes: a newer delivery recorded concurrently is either
    // committed before this statement's snapshot (and supersedes here) or recorded after this
    // commits (and supersedes there).
    await this.db.transaction().execute(async (trx) => {
      const jobIds = retried.map((r) => r.delivery.jobId);
      await sql`select pg_advisory_xact_lock(k) from (select distinct hashtext('webhook-job:' || j::text) as k from unnest(${jobIds}::uuid[]) as j order by k) jobs`.execute(
        trx,
      );
      await this.updateAttempts(trx, reports);
    });
  }

  private async updateAttempts(
    db: Kysely<Database> | Transaction<Database>,
    reports: readonly AttemptReport[],
  ): Promise<void> {
    const column = <T>(pick: (report: AttemptReport) => T) => reports.map(pick);
    const statusOf = ({ outcome }: AttemptReport): DeliveryRow['status'] => {
      switch (outcome.type) {
        case 'delivered':
          return 'delivered';
        case 'failed':
          return 'failed';
        case 'retry':
        case 'deferred':
          return 'pending';
        case 'gone':
          throw new Error('a 410 settles the whole URL: record it with recordAttempt');
        default: {
          const unknownOutcome: never = outcome;
          throw new Error(`unknown outcome ${JSON.stringify(unknownOutcome)}`);
        }
      }
    };
    await sql`
      with v as (
        select * from unnest(
          ${column((r) => r.delivery.id)}::text[], ${column(statusOf)}::text[], ${column((r) => r.attempt?.attempt ?? null)}::int[],
          ${column((r) => r.attempt?.startedAt ?? null)}::timestamptz[], ${column((r) => r.attempt?.statusCode ?? null)}::int[],
          ${column((r) => r.attempt?.latencyMs ?? null)}::int[], ${column((r) => r.attempt?.responseSnippet ?? null)}::text[],
          ${column((r) => r.attempt?.error ?? null)}::text[],
          ${column((r) => ('nextAttemptAt' in r.outcome ? r.outcome.nextAttemptAt : null))}::timestamptz[]
        ) with ordinality as v(id, status, attempt, started_at, status_code, latency_ms, response_snippet, error, next_attempt_at, ord)
      ),
      logged as (
        insert into webhook_attempts (delivery_id, attempt, started_at, status_code, latency_ms, response_snippet, error)
        select id, attempt, started_at, status_code, latency_ms, response_snippet, error from v where attempt is not null order by ord
      )
      update webhook_deliveries d set
        -- Failing (an attempt made, now or before) and overtaken: the newer one goes instead.
        status = case
          when v.status = 'pending' and coalesce(v.attempt, d.attempts) > 0 and exists (
            select 1 from webhook_deliveries n where n.job_id = d.job_id and n.sequence > d.sequence and n.status <> 'superseded'
          ) then 'superseded'
          else v.status
        end,
        lease_until = null,
        updated_at = now(),
        attempts = coalesce(v.attempt, d.attempts),
        last_status_code = case when v.attempt is null then d.last_status_code else v.status_code end,
        last_error = case when v.attempt is null then d.last_error else v.error end,
        next_attempt_at = coalesce(v.next_attempt_at, d.next_attempt_at),
        delivered_at = case when v.status = 'delivered' then now() else d.delivered_at end
      from v
      -- Back to pending only if still ours: a newer event may have superseded it meanwhile.
      where d.id = v.id and (v.status <> 'pending' or d.status = 'sending')
    `.execute(db);
  }

  /** A 410: the URL is gone for every delivery to it, pending and in flight alike. */
  private async recordGone(delivery: WebhookDelivery, attempt: AttemptRecord | undefined): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // Exclusive: waits for batches recording deliveries to this URL, then sees their rows.
      await sql`select pg_advisory_xact_lock(hashtext('webhook-url'), hashtext(${delivery.url}))`.execute(
        trx,
      );
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
      await trx
        .insertInto('webhook_gone_urls')
        .values({ url: delivery.url })
        .onConflict((oc) => oc.column('url').doNothing())
        .execute();
      await trx
        .updateTable('webhook_deliveries')
        .set({ status: 'gone', lease_until: null, updated_at: sql<Date>`now()` })
        .where('url', '=', delivery.url)
        .where('status', 'in', ['pending', 'sending'])
        .execute();
      await trx
        .updateTable('webhook_deliveries')
        .set({
          status: 'gone',
          lease_until: null,
          updated_at: sql<Date>`now()`,
          ...(attempt && {
            attempts: attempt.attempt,
            last_status_code: attempt.statusCode,
            last_error: attempt.error,
          }),
        })
        .where('id', '=', delivery.id)
        .execute();
    });
  }

  /** A job's deliveries with their attempts, newest first. */
  async listForJob(jobId: string): Promise<
    (WebhookDelivery & {
      createdAt: Date;
      deliveredAt: Date | null;
      lastStatusCode: number | null;
      lastError: string | null;
      attemptLog: AttemptRecord[];
    })[]
  > {
    const deliveries = await this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('job_id', '=', jobId)
      .orderBy('created_at', 'desc')
      .orderBy('sequence', 'desc')
      .execute();
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
      ...toWebhookDelivery(row),
      createdAt: row.created_at,
      deliveredAt: row.delivered_at,
      lastStatusCode: row.last_status_code,
      lastError: row.last_error,
      attemptLog: attempts
        .filter((a) => a.delivery_id === row.id)
        .map((a) => ({
          attempt: a.attempt,
          startedAt: a.started_at,
          statusCode: a.status_code,
          latencyMs: a.latency_ms,
          responseSnippet: a.response_snippet,
          error: a.error,
        })),
    }));
  }
}
