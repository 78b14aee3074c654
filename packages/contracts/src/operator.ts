import { z } from 'zod';
import { JobError, JobProgress, JobStats, JobStatus } from './jobs.js';

/**
 * The operator API: what the dashboard (`/ui`), the metrics and an operator's scripts read and
 * steer. With auth on, a key's role decides: `client` keys see and steer only their own jobs;
 * `operator` keys see every client's jobs and reach the operator-only routes (dead letters,
 * queues, workers, overview, live stream); a client key gets 403 `operator_only` there. With
 * auth off, every request acts as an operator.
 */
export const ApiRole = z.enum(['client', 'operator']).meta({ id: 'ApiRole' });
export type ApiRole = z.infer<typeof ApiRole>;

const Timestamp = z.iso.datetime({ offset: true });

/**
 * What a pausable consumer serves: `object-check` for the object checks, else a job kind (the
 * same words as the consumer's `BUILT_IN_KINDS`).
 */
export const ConsumedKind = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/);
export type ConsumedKind = z.infer<typeof ConsumedKind>;

// --- GET /v1/jobs/{id}/events (the job's owner or an operator) -------------------------------

/** One step of a job's history, oldest first; a status change carries its attempt and error. */
export const JobHistoryEntry = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('status'),
      at: Timestamp,
      sequence: z.number().int().positive(),
      status: JobStatus,
      /** The attempt this change belongs to (1 for the first run; 0 while never started). */
      attempt: z.number().int().nonnegative(),
      progress: JobProgress,
      /** Why it failed, or why a failed attempt goes back to `queued` for its retry. */
      error: JobError.nullable(),
    }),
    z.object({
      type: z.literal('progress'),
      at: Timestamp,
      sequence: z.number().int().positive(),
      attempt: z.number().int().nonnegative(),
      progress: JobProgress,
    }),
    z.object({
      type: z.literal('delivery'),
      at: Timestamp,
      /** The delivery's webhook message id (`msg_…`, the `webhook-id` header it was sent with). */
      deliveryId: z.string(),
      /** The job event (its sequence) this attempt pushed. */
      sequence: z.number().int().positive(),
      attempt: z.number().int().positive(),
      url: z.string(),
      statusCode: z.number().int().nullable(),
      latencyMs: z.number().nonnegative(),
      error: z.string().nullable(),
    }),
  ])
  .meta({ id: 'JobHistoryEntry' });
export type JobHistoryEntry = z.infer<typeof JobHistoryEntry>;

export const JobHistory = z
  .object({ jobId: z.uuid(), entries: z.array(JobHistoryEntry) })
  .meta({ id: 'JobHistory' });
export type JobHistory = z.infer<typeof JobHistory>;

// --- POST /v1/jobs/{id}/retry (the job's owner or an operator) -------------------------------
// Answers 202 with the Job (status `queued`, same id, attempts kept); 409 `job_not_retryable`
// unless the job is `failed` or `cancelled`.

// --- Dead letters (operator) ------------------------------------------------------------------

/** A message the broker or a handler gave up on, kept in PostgreSQL until redriven or purged. */
export const DeadLetter = z
  .object({
    id: z.uuid(),
    /** The work queue it came from. */
    queue: z.string(),
    /** `object-check` or the job kind. */
    kind: ConsumedKind,
    /** The job it would run; null for object checks. */
    jobId: z.uuid().nullable(),
    reason: z.object({ code: z.string(), message: z.string() }),
    /** Deliveries and retry-tier passes before it was given up. */
    attempts: z.number().int().nonnegative(),
    deadLetteredAt: Timestamp,
    ageSeconds: z.number().nonnegative(),
  })
  .meta({ id: 'DeadLetter' });
export type DeadLetter = z.infer<typeof DeadLetter>;

/** `GET /v1/dead-letters/{id}`: with the message itself. */
export const DeadLetterDetail = DeadLetter.extend({
  /** The message body, parsed when it is JSON. */
  body: z.unknown(),
  headers: z.record(z.string(), z.unknown()),
}).meta({ id: 'DeadLetterDetail' });
export type DeadLetterDetail = z.infer<typeof DeadLetterDetail>;

/** `GET /v1/dead-letters?kind=&limit=&cursor=`, newest first. */
export const DeadLetterListQuery = z.strictObject({
  kind: ConsumedKind.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(500).optional(),
});
export type DeadLetterListQuery = z.infer<typeof DeadLetterListQuery>;

export const DeadLetterPage = z
  .object({
    deadLetters: z.array(DeadLetter),
    nextCursor: z.string().nullable(),
    /** All dead letters matching the filter, not only this page. */
    total: z.number().int().nonnegative(),
  })
  .meta({ id: 'DeadLetterPage' });
export type DeadLetterPage = z.infer<typeof DeadLetterPage>;

/**
 * Body of `POST /v1/dead-letters/redrive` and `POST /v1/dead-letters/purge`: exactly one of
 * `ids`, `kind` or `all: true`. `POST /v1/dead-letters/{id}/redrive` takes no body.
 */
export const DeadLetterSelection = z
  .union([
    z.strictObject({ ids: z.array(z.uuid()).min(1).max(1000) }),
    z.strictObject({ kind: ConsumedKind }),
    z.strictObject({ all: z.literal(true) }),
  ])
  .meta({ id: 'DeadLetterSelection' });
export type DeadLetterSelection = z.infer<typeof DeadLetterSelection>;

export const RedriveResult = z
  .object({ redriven: z.number().int().nonnegative() })
  .meta({ id: 'RedriveResult' });
export type RedriveResult = z.infer<typeof RedriveResult>;
export const PurgeResult = z.object({ purged: z.number().int().nonnegative() }).meta({ id: 'PurgeResult' });
export type PurgeResult = z.infer<typeof PurgeResult>;

// --- Queues (operator) ------------------------------------------------------------------------

export const QueueRole = z.enum(['work', 'retry', 'dead-letter', 'events']).meta({ id: 'QueueRole' });

export const QueueInfo = z
  .object({
    name: z.string(),
    role: QueueRole,
    /** For work queues: `object-check` or the job kind; else null. */
    kind: ConsumedKind.nullable(),
    messages: z.number().int().nonnegative(),
    /** Ready and unacknowledged; null when only AMQP answered (it tells ready messages only). */
    ready: z.number().int().nonnegative().nullable(),
    unacked: z.number().int().nonnegative().nullable(),
    consumers: z.number().int().nonnegative(),
    /** Messages a second, from RabbitMQ's management API; null without it. */
    rates: z
      .object({
        publish: z.number().nonnegative(),
        deliver: z.number().nonnegative(),
        ack: z.number().nonnegative(),
      })
      .nullable(),
    /** For work queues: consumers are told to stop taking messages of this kind. */
    paused: z.boolean(),
  })
  .meta({ id: 'QueueInfo' });
export type QueueInfo = z.infer<typeof QueueInfo>;

export const QueueList = z
  .object({
    /** Where the figures came from. */
    source: z.enum(['management', 'amqp']),
    queues: z.array(QueueInfo),
  })
  .meta({ id: 'QueueList' });
export type QueueList = z.infer<typeof QueueList>;

/** Answer of `POST /v1/queues/{kind}/pause` and `.../resume`. */
export const PauseState = z.object({ kind: ConsumedKind, paused: z.boolean() }).meta({ id: 'PauseState' });
export type PauseState = z.infer<typeof PauseState>;

// --- Workers (operator) -----------------------------------------------------------------------

export const WorkerHost = z
  .object({
    id: z.string(),
    hostname: z.string(),
    pid: z.number().int(),
    kinds: z.array(z.string()),
    inFlight: z.number().int().nonnegative(),
    startedAt: Timestamp,
    lastHeartbeatAt: Timestamp,
    /** Heard from within its heartbeat window. */
    alive: z.boolean(),
  })
  .meta({ id: 'WorkerHost' });
export type WorkerHost = z.infer<typeof WorkerHost>;

export const WorkerList = z.object({ workers: z.array(WorkerHost) }).meta({ id: 'WorkerList' });
export type WorkerList = z.infer<typeof WorkerList>;

// --- Overview (operator) ----------------------------------------------------------------------

/** `GET /v1/overview`: every client's jobs and the backlogs an operator watches. */
export const Overview = z
  .object({
    jobs: JobStats,
    objects: z.object({
      count: z.number().int().nonnegative(),
      oldestSeenAt: Timestamp.nullable(),
      newestSeenAt: Timestamp.nullable(),
    }),
    outboxDepth: z.number().int().nonnegative(),
    pendingWebhookDeliveries: z.number().int().nonnegative(),
    deadLetters: z.number().int().nonnegative(),
    at: Timestamp,
  })
  .meta({ id: 'Overview' });
export type Overview = z.infer<typeof Overview>;

/** One minute of `GET /v1/overview/timeseries?minutes=60` (oldest first, every minute present). */
export const ThroughputBucket = z
  .object({
    minute: Timestamp,
    submitted: z.number().int().nonnegative(),
    succeeded: z.number().int().nonnegative(),
    failed: z.number().int().nonnegative(),
    /** Of the jobs that started in this minute: creation to start. Null when none started. */
    queueWaitMs: z.object({ p50: z.number(), p95: z.number() }).nullable(),
    /** Of the jobs that finished in this minute: start to finish. */
    runMs: z.object({ p50: z.number(), p95: z.number() }).nullable(),
  })
  .meta({ id: 'ThroughputBucket' });
export type ThroughputBucket = z.infer<typeof ThroughputBucket>;

export const TimeseriesQuery = z.strictObject({
  minutes: z.coerce.number().int().min(1).max(1440).default(60),
  kind: z.string().optional(),
});
export const Timeseries = z.object({ buckets: z.array(ThroughputBucket) }).meta({ id: 'Timeseries' });
export type Timeseries = z.infer<typeof Timeseries>;

// --- Live updates: Server-Sent Events --------------------------------------------------------
// `GET /v1/live` (operator): `event: overview` with an Overview about every 2 s, and
// `event: job` with a Job each time a job is created or changes (the newest changes first
// when many do; a viewer re-reads the list on `event: resync`).
// `GET /v1/jobs/{id}/live` (owner or operator): `event: job` with the Job at once and on every
// change (status, progress), `event: history` with new JobHistoryEntry items, and the stream
// ends after the job is final and its deliveries are settled.
// Both send `: ping` comments every 15 s; `Last-Event-ID` is not needed (a reconnect re-reads).
export const LIVE_EVENTS = ['overview', 'job', 'history', 'resync'] as const;
export type LiveEventName = (typeof LIVE_EVENTS)[number];
