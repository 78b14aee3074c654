import { z } from 'zod';
import { jobStoreEnvShape } from '@conveyor/jobs';
import { commonEnvShape, env } from '@conveyor/platform';
import { storageEnvShape } from '@conveyor/storage';

export const CleanupEnv = z.object({
  ...commonEnvShape,
  JOB_EVENTS: jobStoreEnvShape.JOB_EVENTS,
  ...storageEnvShape,
  /** Port of /healthz, /readyz and /metrics. Default 9092. */
  OPS_PORT: env.int(9092),
  /** How often the TTL routine runs, in ms. Default 3000. */
  ROUTINE_INTERVAL_MS: env.int(3_000, 10),
  /** Objects not seen for this long are deleted, in ms. Default 30000. */
  OBJECT_TTL_MS: env.int(30_000, 1),
  /** Most rows one delete statement removes, so a huge backlog never holds long locks. Default 10000. */
  CLEANUP_BATCH_SIZE: env.int(10_000, 1),
  /** How often job results are expired and stuck jobs looked for, in ms. Default 60000. */
  JOB_ROUTINE_INTERVAL_MS: env.int(60_000, 10),
  /**
   * An unfinished job untouched for this long has no runner (running jobs heartbeat every
   * JOB_CHECK_INTERVAL_MS) and is handed back to the queue, in ms. Keep it above the longest
   * retry delay. Default 900000 (15 min).
   */
  STUCK_JOB_AFTER_MS: env.int(900_000, 1),
  /**
   * Retention, each record by its own setting, in ms (0 keeps for ever). Finished jobs (with their
   * events, webhook deliveries and attempts, and an image job's blobs) once created and finished
   * this long ago. Default 90 days. Results go sooner, after the consumer's RESULT_TTL_MS.
   */
  JOB_RETENTION_MS: env.int(90 * 86_400_000, 0),
  /** A job's history (job_events) of jobs kept longer. Default 90 days. */
  JOB_EVENT_RETENTION_MS: env.int(90 * 86_400_000, 0),
  /** Settled webhook deliveries (delivered, failed, superseded, gone) and their attempts. Default 30 days. */
  WEBHOOK_DELIVERY_RETENTION_MS: env.int(30 * 86_400_000, 0),
  /** The attempt log of deliveries kept longer. Default 30 days. */
  WEBHOOK_ATTEMPT_RETENTION_MS: env.int(30 * 86_400_000, 0),
  /** How often retention runs, in ms. Default 60000. */
  RETENTION_INTERVAL_MS: env.int(60_000, 10),
  /** Rows one retention statement deletes at most. Default 1000. */
  RETENTION_BATCH_SIZE: env.int(1_000, 1),
  /**
   * Pause between two retention batches, in ms, leaving the disk to the hot paths: still about
   * 7,000 old jobs a second with their history (docs/benchmarks.md, retention). Default 100.
   */
  RETENTION_BATCH_PAUSE_MS: env.int(100, 0),
  /**
   * How often delayed jobs that have come due are moved to queued, in ms: their start is late by
   * up to this much (half on average). Each look is one probe of a partial index holding only
   * scheduled jobs. Default 250.
   */
  PROMOTE_INTERVAL_MS: env.int(250, 10),
  /** Most delayed jobs queued per transaction (repeated until none is due). Default 1000. */
  PROMOTE_BATCH_SIZE: env.int(1_000, 1),
  /** How often schedules are looked at for due ticks, in ms. Default 250. */
  SCHEDULER_INTERVAL_MS: env.int(250, 10),
  /**
   * A schedule tick acted on at most this late is on time and makes its job whatever the
   * schedule's catchUp; an older one was missed (no scheduler ran) and only `catchUp: latest`
   * runs it (the most recent one only), in ms. Default 5000.
   */
  SCHEDULE_MISFIRE_GRACE_MS: env.int(5_000, 0),
});
export type CleanupConfig = z.infer<typeof CleanupEnv>;
