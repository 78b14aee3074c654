import { z } from 'zod';
import { commonEnvShape, env } from '@conveyor/platform';

export const ProducerEnv = z.object({
  ...commonEnvShape,
  /** HTTP port of the API (also serves /healthz, /readyz, /metrics). Default 9090. */
  PORT: env.int(9090),
  /** Most ids accepted in one POST /callback. Default 10000. */
  CALLBACK_MAX_IDS: env.int(10_000, 1),
  /** Largest request body in bytes. Default 1 MiB. */
  BODY_LIMIT_BYTES: env.int(1_048_576, 1),
  /**
   * How long a request waits for broker confirms before spilling to the outbox. The upstream
   * gives a callback 1 s in all, so this leaves room for the outbox write. Default 400 ms.
   */
  PUBLISH_TIMEOUT_MS: env.int(400, 1),
  /** How often the outbox relay looks for spilled messages. Default 500 ms. */
  OUTBOX_POLL_MS: env.int(500, 10),
  /** Require `Authorization: Bearer <api key>` on the jobs API. Default false (one default client). */
  AUTH_ENABLED: env.bool(false),
  /** Longest number a factorize job accepts, in decimal digits. Default 100. */
  FACTORIZE_MAX_DIGITS: env.int(100, 1),
  /** Test-only fault injection: `crash-after-commit` kills the process between a job's commit and its publish. */
  FAULT_INJECTION: z.enum(['none', 'crash-after-commit']).default('none'),
});
export type ProducerConfig = z.infer<typeof ProducerEnv>;
