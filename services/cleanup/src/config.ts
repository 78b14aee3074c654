import { z } from 'zod';
import { commonEnvShape, env } from '@conveyor/platform';

export const CleanupEnv = z.object({
  ...commonEnvShape,
  /** Port of /healthz, /readyz and /metrics. Default 9092. */
  OPS_PORT: env.int(9092),
  /** How often the TTL routine runs, in ms. Default 3000. */
  ROUTINE_INTERVAL_MS: env.int(3_000, 10),
  /** Objects not seen for this long are deleted, in ms. Default 30000. */
  OBJECT_TTL_MS: env.int(30_000, 1),
  /** Most rows one delete statement removes, so a huge backlog never holds long locks. Default 10000. */
  CLEANUP_BATCH_SIZE: env.int(10_000, 1),
});
export type CleanupConfig = z.infer<typeof CleanupEnv>;
