import type { ColumnType, Generated, GeneratedAlways, Insertable, Selectable } from 'kysely';

/** bigint columns arrive from pg as strings (pg does not guess at 64-bit precision). */
type Int8 = ColumnType<string, string | number | bigint, string | number | bigint>;

export interface ObjectsTable {
  id: Int8;
  last_seen: ColumnType<Date, Date | string, Date | string>;
}

export interface OutboxTable {
  id: GeneratedAlways<string>;
  exchange: string;
  routing_key: string;
  message_id: string;
  correlation_id: string | null;
  type: string | null;
  body: string;
  created_at: Generated<Date>;
  attempts: Generated<number>;
  last_error: string | null;
}

export interface ApiClientsTable {
  id: string;
  name: string;
  key_hash: string | null;
  created_at: Generated<Date>;
  /** When the key was revoked (key_hash is null from then on). */
  revoked_at: Timestamp | null;
  /** `client` sees its own jobs; `operator` sees every client's and the operator routes. */
  role: Generated<'client' | 'operator'>;
}

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json = ColumnType<unknown, string, string>;

export interface JobsTable {
  id: string;
  client_id: string;
  kind: string;
  custom_id: string | null;
  request_hash: string;
  input: Json;
  status: string;
  progress: Generated<number>;
  progress_message: string | null;
  result: ColumnType<unknown, string | null, string | null>;
  error_code: string | null;
  error_message: string | null;
  attempts: Generated<number>;
  callback_url: string | null;
  cancel_requested: Generated<boolean>;
  sequence: Generated<number>;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  expires_at: Timestamp | null;
  expired: Generated<boolean>;
  /** The producer that publishes this job's work message (see job_dispatchers); null: the outbox does. */
  dispatcher: string | null;
  /** The W3C traceparent of the request that created it, when tracing was on. */
  trace_parent: ColumnType<string | null, string | null | undefined, string | null>;
  /** The job's own timeout per attempt (ms) and most attempts, when its submit set them. */
  timeout_ms: ColumnType<number | null, number | null | undefined, number | null>;
  max_attempts: ColumnType<number | null, number | null | undefined, number | null>;
  /** When a delayed job is due (status `scheduled` until then); null for a job submitted to run now. */
  run_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** A recurring job: a cron in a time zone, and the next tick the scheduler acts on. */
export interface SchedulesTable {
  id: string;
  client_id: string;
  custom_id: string | null;
  request_hash: string;
  cron: string;
  timezone: string;
  kind: string;
  input: Json;
  callback_url: string | null;
  /** The request hash each tick's job gets (what a job submitted with this kind, input and callbackUrl would). */
  job_request_hash: string;
  overlap: string;
  catch_up: string;
  paused: Generated<boolean>;
  next_run_at: Timestamp | null;
  last_tick_at: Timestamp | null;
  last_job_id: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** A producer publishing its jobs' work messages, with its lease and confirmed watermark. */
export interface JobDispatchersTable {
  id: string;
  confirmed_before: Date;
  lease_until: Date;
  started_at: Generated<Date>;
}

export interface JobEventsTable {
  job_id: string;
  sequence: number;
  event_id: string;
  status: string;
  progress: number;
  progress_message: string | null;
  /** The job's attempts when the change was made (0 before its first run). */
  attempt: Generated<number>;
  error_code: string | null;
  error_message: string | null;
  occurred_at: ColumnType<Date, Date | string | undefined, never>;
}

/** A message moved out of the dead-letter queue, kept until redriven or purged. */
export interface DeadLettersTable {
  id: Generated<string>;
  message_id: string;
  queue: string;
  kind: string;
  job_id: string | null;
  exchange: string;
  routing_key: string;
  reason_code: string;
  reason_message: string;
  attempts: number;
  body: string;
  headers: ColumnType<unknown, string, string>;
  dead_lettered_at: ColumnType<Date, Date | string | undefined, never>;
}

/** A kind of work (`object-check` or a job kind) worker hosts must not consume. */
export interface PausedKindsTable {
  kind: string;
  paused_at: ColumnType<Date, Date | string | undefined, never>;
}

export type DeliveryStatus = 'pending' | 'sending' | 'delivered' | 'failed' | 'superseded' | 'gone';

export interface WebhookDeliveriesTable {
  id: string;
  job_id: string;
  client_id: string;
  event_id: string | null;
  sequence: number;
  url: string;
  payload: string;
  status: DeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  lease_until: Timestamp | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: ColumnType<Date, Date | string | undefined, Date | string>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
  delivered_at: Timestamp | null;
}

export interface WebhookAttemptsTable {
  id: GeneratedAlways<string>;
  delivery_id: string;
  attempt: number;
  started_at: ColumnType<Date, Date | string, never>;
  status_code: number | null;
  latency_ms: number;
  response_snippet: string | null;
  error: string | null;
}

export interface WebhookGoneUrlsTable {
  url: string;
  gone_at: ColumnType<Date, Date | string | undefined, never>;
}

export interface WebhookSecretsTable {
  id: GeneratedAlways<string>;
  client_id: string;
  secret: string;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  expires_at: Timestamp | null;
}

export interface JobKindsTable {
  kind: string;
  version: number;
  input_schema: ColumnType<unknown, string, string>;
  result_schema: ColumnType<unknown, string | null, string | null>;
  schema_hash: string;
  concurrency: number;
  timeout_ms: number | null;
  retry: ColumnType<unknown, string, string>;
  isolation: string;
  registered_at: ColumnType<Date, Date | string | undefined, never>;
  updated_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

export interface WorkerHostsTable {
  id: string;
  hostname: string;
  pid: number;
  kinds: string[];
  in_flight: ColumnType<number, number | undefined, number>;
  started_at: ColumnType<Date, Date | string | undefined, never>;
  last_heartbeat_at: ColumnType<Date, Date | string | undefined, Date | string>;
}

/** An Idempotency-Key's request and, once answered, its answer (see the producer's idempotency/). */
export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  fingerprint: string;
  status: 'in_progress' | 'done';
  locked_at: Timestamp | null;
  response_status: number | null;
  response_headers: ColumnType<Record<string, string> | null, string | null, string | null>;
  response_body: string | null;
  created_at: ColumnType<Date, Date | string | undefined, never>;
  expires_at: Timestamp;
}

/** Tokens of a client's rate window handed out to producer replicas so far (see the producer's limits/). */
export interface RateLimitWindowsTable {
  client_id: string;
  bucket: string;
  window_start: Timestamp;
  used: number;
  last_grant: number;
}

export interface Database {
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  webhook_gone_urls: WebhookGoneUrlsTable;
  webhook_secrets: WebhookSecretsTable;
  objects: ObjectsTable;
  outbox: OutboxTable;
  api_clients: ApiClientsTable;
  jobs: JobsTable;
  job_events: JobEventsTable;
  job_dispatchers: JobDispatchersTable;
  job_kinds: JobKindsTable;
  worker_hosts: WorkerHostsTable;
  idempotency_keys: IdempotencyKeysTable;
  rate_limit_windows: RateLimitWindowsTable;
  dead_letters: DeadLettersTable;
  paused_kinds: PausedKindsTable;
  schedules: SchedulesTable;
}

export type JobRow = Selectable<JobsTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;
export type AttemptRow = Selectable<WebhookAttemptsTable>;
export type NewJobRow = Insertable<JobsTable>;
export type ScheduleRow = Selectable<SchedulesTable>;

export type ObjectRow = Selectable<ObjectsTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type NewOutboxRow = Insertable<OutboxTable>;
