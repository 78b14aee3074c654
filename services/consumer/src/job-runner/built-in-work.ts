import { isJobOfKind, type BuiltInJobKind, type JobResult } from '@conveyor/contracts';
import type { BuiltInJobRecord } from '@conveyor/jobs';
import type { JobWork, WorkContext, WorkOutcome } from './job.consumer.js';

/** How a built-in kind's work ends: a success carries the kind's result, as the catalog types it. */
type BuiltInWorkOutcome<K extends BuiltInJobKind> =
  Exclude<WorkOutcome, { type: 'succeeded' }> | { type: 'succeeded'; result: JobResult<K> };

/**
 * The work of one built-in kind, handed its jobs typed by the catalog. Its queue carries only
 * that kind's work messages, so a job of another kind is a routing fault: it fails at once
 * rather than run on an input of another shape.
 */
export function builtInWork<K extends BuiltInJobKind>(
  kind: K,
  work: (job: BuiltInJobRecord<K>, ctx: WorkContext) => Promise<BuiltInWorkOutcome<K>>,
): JobWork {
  return async (job, ctx) => {
    if (isJobOfKind(job, kind)) return work(job, ctx);
    return {
      type: 'failed',
      error: { code: 'wrong_kind', message: `a ${job.kind} job reached the ${kind} work` },
      permanent: true,
    };
  };
}
