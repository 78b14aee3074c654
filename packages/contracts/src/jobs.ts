import { z } from 'zod';

/**
 * Where a job is in its life. `succeeded`, `failed` and `cancelled` are final; `scheduled` waits
 * for its `runAt` (delayed jobs), then becomes `queued`.
 */
export const JobStatus = z
  .enum(['scheduled', 'queued', 'running', 'succeeded', 'failed', 'cancelled'])
  .meta({ id: 'JobStatus' });
export type JobStatus = z.infer<typeof JobStatus>;

/**
 * The only allowed status changes, enforced by the job store (in SQL, so a stale writer cannot
 * resurrect a finished job). `running → running` records progress; `running → queued` is a
 * transient failure waiting for its retry.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  scheduled: ['queued', 'cancelled'],
  queued: ['running', 'cancelled', 'failed'],
  running: ['running', 'queued', 'succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}

export function isTerminal(status: JobStatus): boolean {
  return JOB_TRANSITIONS[status].length === 0;
}

/** Statuses from which `to` may be reached: the guard of the UPDATE that performs a transition. */
export function sourcesOf(to: JobStatus): JobStatus[] {
  return JobStatus.options.filter((from) => canTransition(from, to));
}

/** The kinds Conveyor ships with; each has its own routes and limits besides POST /v1/jobs. */
export const BuiltInJobKind = z.enum(['factorize', 'csv-sum', 'image-resize']);
export type BuiltInJobKind = z.infer<typeof BuiltInJobKind>;

export function isBuiltInJobKind(kind: string): kind is BuiltInJobKind {
  return (BuiltInJobKind.options as readonly string[]).includes(kind);
}

/**
 * A job kind's name: a built-in one or one a worker host registered. It names a queue and a
 * routing-key word, hence lowercase letters, digits and dashes only.
 */
export const JOB_KIND_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const JobKind = z
  .string()
  .regex(
    JOB_KIND_PATTERN,
    'must be lowercase letters, digits and dashes, starting with a letter (at most 63)',
  )
  .meta({ id: 'JobKind' });
export type JobKind = z.infer<typeof JobKind>;

/**
 * Unnamed in the API document, unlike its neighbours: it is always nullable, and a named schema
 * made nullable is documented as nullable wherever it appears (the name travels through .nullable()).
 */
export const JobError = z.object({ code: z.string(), message: z.string() });
export type JobError = z.infer<typeof JobError>;

export const JobProgress = z
  .object({
    /** 0..1 */
    fraction: z.number().min(0).max(1),
    message: z.string().nullable(),
  })
  .meta({ id: 'JobProgress' });
export type JobProgress = z.infer<typeof JobProgress>;

/** A job as the API shows it. */
export const Job = z
  .object({
    id: z.uuid(),
    kind: JobKind,
    status: JobStatus,
    customId: z.string().nullable(),
    input: z.unknown(),
    progress: JobProgress,
    result: z.unknown().nullable(),
    error: JobError.nullable(),
    attempts: z.number().int().nonnegative(),
    callbackUrl: z.string().nullable(),
    createdAt: z.iso.datetime({ offset: true }),
    startedAt: z.iso.datetime({ offset: true }).nullable(),
    finishedAt: z.iso.datetime({ offset: true }).nullable(),
    expiresAt: z.iso.datetime({ offset: true }).nullable(),
    /** When a delayed job is due (it is `scheduled` until then); null for a job submitted to run now. */
    runAt: z.iso.datetime({ offset: true }).nullable(),
    /** The result was dropped after `expiresAt` (the job itself is kept). */
    expired: z.boolean(),
    /** This job's own timeout per attempt, in ms; null: its kind's. */
    timeoutMs: z.number().int().positive().nullable(),
    /** This job's own most attempts; null: its kind's. */
    maxAttempts: z.number().int().positive().nullable(),
  })
  .meta({ id: 'Job' });
export type Job = z.infer<typeof Job>;

/** The longest a job may ask to run (24 h): a timer's reach, far past any kind's own limit. */
export const JOB_TIMEOUT_MAX_MS = 86_400_000;
/** The most attempts a job may ask for. */
export const JOB_ATTEMPTS_MAX = 100;

export const CUSTOM_ID_MAX_LENGTH = 200;

/** A client's own id for a job: what it submits, and what it may filter the list by. */
export const CustomId = z
  .string()
  .min(1)
  .max(CUSTOM_ID_MAX_LENGTH)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** `POST /v1/jobs`. The input is checked against the kind's own schema after this. */
export const SubmitJobRequest = z
  .strictObject({
    kind: JobKind,
    input: z.unknown(),
    customId: CustomId.optional(),
    callbackUrl: z.string().max(2048).optional(),
    /** Run at this time (RFC 3339 with an offset), not now; exclusive with delayMs. See run-at.ts. */
    runAt: z.iso.datetime({ offset: true }).optional(),
    /** Run this many ms from now; exclusive with runAt. */
    delayMs: z.number().int().nonnegative().optional(),
    /** This job's timeout per attempt, at most its kind's (422 beyond it). */
    timeoutMs: z.number().int().min(1).max(JOB_TIMEOUT_MAX_MS).optional(),
    /** This job's retry policy: its most attempts (the first included), at most its kind's. */
    retry: z.strictObject({ maxAttempts: z.number().int().min(1).max(JOB_ATTEMPTS_MAX) }).optional(),
  })
  .meta({ id: 'SubmitJobRequest' });
export type SubmitJobRequest = z.infer<typeof SubmitJobRequest>;

export const JobListQuery = z.strictObject({
  /** Operators only: one client's jobs (an operator sees every client's without it). */
  clientId: z.string().min(1).max(100).optional(),
  status: JobStatus.optional(),
  kind: JobKind.optional(),
  customId: CustomId.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
});
export type JobListQuery = z.infer<typeof JobListQuery>;

export const JobPage = z
  .object({ jobs: z.array(Job), nextCursor: z.string().nullable() })
  .meta({ id: 'JobPage' });
export type JobPage = z.infer<typeof JobPage>;

export const JobStats = z
  .object({
    byStatus: z.record(JobStatus, z.number().int()),
    byKind: z.record(z.string(), z.record(JobStatus, z.number().int())),
    inProgress: z.number().int(),
  })
  .meta({ id: 'JobStats' });
export type JobStats = z.infer<typeof JobStats>;

/** A status change, as stored in job_events and published on the events exchange. */
export const JobEvent = z.object({
  eventId: z.uuid(),
  jobId: z.uuid(),
  clientId: z.string(),
  kind: JobKind,
  customId: z.string().nullable(),
  status: JobStatus,
  sequence: z.number().int().positive(),
  progress: JobProgress,
  result: z.unknown().nullable(),
  error: JobError.nullable(),
  /** Where the notifier pushes this change; null when the client polls instead. */
  callbackUrl: z.string().nullable(),
  occurredAt: z.iso.datetime({ offset: true }),
});
export type JobEvent = z.infer<typeof JobEvent>;

/**
 * The JSON body pushed to a client's webhook for one job event (signed by the Standard Webhooks
 * headers): its result inline, or a link to the job when the result is too large to inline.
 */
const WebhookPayloadFields = JobEvent.pick({
  eventId: true,
  jobId: true,
  customId: true,
  kind: true,
  status: true,
  sequence: true,
  progress: true,
  error: true,
  occurredAt: true,
});
export const WebhookPayload = z
  .union([
    WebhookPayloadFields.extend({ result: z.unknown().nullable() }),
    WebhookPayloadFields.extend({ resultUrl: z.url() }),
  ])
  .meta({ id: 'WebhookPayload' });
export type WebhookPayload = z.infer<typeof WebhookPayload>;

/** Routing key of a job event on the events exchange: `job.<kind>.<status>`. */
export function jobEventRoutingKey(kind: JobKind, status: JobStatus): string {
  return `job.${kind}.${status}`;
}

/** The work message for a job: only the id; the job row is the source of truth. */
export const JobRunRequested = z.object({ jobId: z.uuid() });
export type JobRunRequested = z.infer<typeof JobRunRequested>;
