import { isJobOfKind } from '@conveyor/jobs';
import type { Database, Kysely } from '@conveyor/database';
import type { BlobLocation, BlobStore } from '@conveyor/storage';
import { listExpiringJobs, markJobsExpired, type ExpiringJob } from './expiring-result.repository.js';

/** The blobs a job owns: an image job's upload and its resized result. */
export function blobsOf(job: ExpiringJob): BlobLocation[] {
  if (!isJobOfKind(job, 'image-resize')) return [];
  return [job.input.original, ...(job.result ? [job.result.location] : [])];
}

/**
 * One batch of expiry: delete the blobs first, then mark the jobs expired, so a crash in
 * between only means the next pass deletes again (deleting is idempotent), never a job that
 * claims to be expired while its blobs linger.
 */
export async function expireResultsBatch(
  db: Kysely<Database>,
  images: BlobStore,
  limit: number,
): Promise<number> {
  const jobs = await listExpiringJobs(db, limit);
  for (const job of jobs) await Promise.all(blobsOf(job).map((location) => images.delete(location)));
  await markJobsExpired(
    db,
    jobs.map((j) => j.id),
  );
  return jobs.length;
}
