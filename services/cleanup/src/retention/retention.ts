import type { Database, Kysely } from '@conveyor/database';
import { errorMessage, sleep, type Logger } from '@conveyor/platform';
import type { BlobStore } from '@conveyor/storage';
import { blobsOf } from '../result-expiry/result-expiry.js';
import {
  deleteExpiredIdempotencyKeys,
  deleteOldRateWindows,
  deleteJobs,
  deleteOldAttempts,
  deleteOldDeliveries,
  deleteOldJobEvents,
  listJobsToDelete,
} from './retention.repository.js';

/** How long each kind of record is kept, in ms; 0 keeps it for ever. */
export interface RetentionSettings {
  jobsMs: number;
  jobEventsMs: number;
  webhookDeliveriesMs: number;
  webhookAttemptsMs: number;
  /** Rows one statement deletes at most. */
  batchSize: number;
  /** Between two batches, so a long prune leaves the disk and the WAL to the hot paths. */
  batchPauseMs: number;
}

export type RetentionTarget =
  | 'jobs'
  | 'job_events'
  | 'webhook_deliveries'
  | 'webhook_attempts'
  | 'idempotency_keys'
  | 'rate_limit_windows';

/**
 * One pass of retention: each target pruned in batches until a batch comes back short. Jobs go
 * first (their events, deliveries and attempts with them), then what outlives its own setting.
 * A job's image blobs are deleted before its row, as result expiry does: a crash in between only
 * means they are deleted again (deleting is idempotent), never a row gone with its blobs left.
 */
export async function pruneOnce(
  db: Kysely<Database>,
  images: BlobStore,
  settings: RetentionSettings,
  signal: AbortSignal,
  log: Logger,
): Promise<Record<RetentionTarget, number>> {
  const { batchSize } = settings;
  const batches = async (batch: () => Promise<number>): Promise<number> => {
    let total = 0;
    for (;;) {
      const deleted = await batch();
      total += deleted;
      if (deleted < batchSize || signal.aborted) return total;
      await sleep(settings.batchPauseMs, signal);
    }
  };
  const kept = async (retentionMs: number, batch: () => Promise<number>) =>
    retentionMs === 0 ? 0 : batches(batch);

  return {
    jobs: await kept(settings.jobsMs, async () => {
      const jobs = await listJobsToDelete(db, settings.jobsMs, batchSize);
      for (const job of jobs) {
        let owned;
        try {
          owned = job.data();
        } catch (error) {
          log.warn('a job due for deletion does not parse; deleting it without its blobs', {
            jobId: job.id,
            error: errorMessage(error),
          });
        }
        if (owned) await Promise.all(blobsOf(owned).map((location) => images.delete(location)));
      }
      await deleteJobs(
        db,
        jobs.map((job) => job.id),
      );
      // A short list ends the pass; a full one (even if some rows were skipped as locked) goes on.
      return jobs.length;
    }),
    job_events: await kept(settings.jobEventsMs, () =>
      deleteOldJobEvents(db, settings.jobEventsMs, batchSize),
    ),
    webhook_deliveries: await kept(settings.webhookDeliveriesMs, () =>
      deleteOldDeliveries(db, settings.webhookDeliveriesMs, batchSize),
    ),
    webhook_attempts: await kept(settings.webhookAttemptsMs, () =>
      deleteOldAttempts(db, settings.webhookAttemptsMs, batchSize),
    ),
    idempotency_keys: await batches(() => deleteExpiredIdempotencyKeys(db, batchSize)),
    rate_limit_windows: await batches(() => deleteOldRateWindows(db, batchSize)),
  };
}
