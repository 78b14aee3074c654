import { z } from 'zod';
import { env } from '@conveyor/platform';
import type { JobStoreOptions } from './job-store.js';

/** The job store's settings, shared by every service that changes jobs. */
export const jobStoreEnvShape = {
  /** Most job changes (inserts, status changes) written in one statement: group commit. Default 100. */
  JOB_BATCH_MAX: env.int(100, 1),
  /**
   * How long a job change waits for others to share its statement, in ms. Changes arriving
   * while a batch is being written go in the next one without this wait. Default 2.
   */
  JOB_BATCH_WAIT_MS: env.int(2, 0),
  /**
   * Which job changes publish a `job.<kind>.<status>` message on the events exchange: `callbacks`
   * (default) only those of jobs with a callbackUrl, which the notifier turns into webhooks;
   * `all` every change, for queues of your own bound to the exchange. Every change is recorded
   * in the job's history either way.
   */
  JOB_EVENTS: z.enum(['callbacks', 'all']).default('callbacks'),
};

type JobStoreEnv = z.infer<z.ZodObject<typeof jobStoreEnvShape>>;

export function jobStoreOptionsFrom(config: JobStoreEnv): JobStoreOptions {
  return {
    batch: { maxItems: config.JOB_BATCH_MAX, maxWaitMs: config.JOB_BATCH_WAIT_MS },
    events: config.JOB_EVENTS,
  };
}
