import { z } from 'zod';
import { commonEnvShape, env } from '@conveyor/platform';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS } from './delivery/retry-schedule.js';

export const NotifierEnv = z.object({
  ...commonEnvShape,
  /** Port of /healthz, /readyz and /metrics. Default 9093. */
  OPS_PORT: env.int(9093),
  /** The default client's signing secret (`whsec_` + base64) while authentication is off. */
  WEBHOOK_SECRET: z.string().startsWith('whsec_', 'must start with whsec_').optional(),
  /** Hard deadline of one delivery attempt (connect, send, response), in ms. Default 15000. */
  WEBHOOK_TIMEOUT_MS: env.int(15_000, 1),
  /** Delays between attempts after the first, in ms. Default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
  WEBHOOK_RETRY_SCHEDULE_MS: env.intList(DEFAULT_WEBHOOK_RETRY_SCHEDULE_MS),
  /** Allow webhook URLs that resolve to loopback addresses (local development). Default false. */
  WEBHOOK_ALLOW_LOOPBACK: env.bool(false),
  /** Allow private (RFC 1918, unique-local) addresses. Default false. */
  WEBHOOK_ALLOW_PRIVATE: env.bool(false),
  /** Comma-separated CIDRs, IPs or host names allowed whatever they resolve to. Default none. */
  WEBHOOK_ALLOW_LIST: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /** Deliveries in flight per notifier process. Default 200. */
  NOTIFIER_CONCURRENCY: env.int(200, 1),
  /** Deliveries in flight to one endpoint (origin), so a slow one cannot take every slot. Default 10. */
  WEBHOOK_MAX_PER_ENDPOINT: env.int(10, 1),
  /** Consecutive endpoint failures that open its circuit, and how long it stays open, in ms. */
  WEBHOOK_CIRCUIT_THRESHOLD: env.int(5, 1),
  WEBHOOK_CIRCUIT_COOLDOWN_MS: env.int(30_000, 1),
  /** How often due deliveries (retries) are looked for, in ms. New events are sent at once. Default 200. */
  DISPATCH_POLL_MS: env.int(200, 10),
  /** Public URL of the API, for links to results too large to inline. */
  PUBLIC_BASE_URL: env.url('http://127.0.0.1:9090'),
});
export type NotifierConfig = z.infer<typeof NotifierEnv>;
