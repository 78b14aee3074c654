import { z } from 'zod';
import { jobStoreEnvShape } from '@conveyor/jobs';
import { commonEnvShape, env, httpServerEnvShape } from '@conveyor/platform';
import { storageEnvShape } from '@conveyor/storage';
import { parseCidr } from './callback/source-allow-list.js';

export const ProducerEnv = z.object({
  ...commonEnvShape,
  ...jobStoreEnvShape,
  ...storageEnvShape,
  ...httpServerEnvShape,
  /** HTTP port of the API (also serves /healthz and /readyz for load balancers, not /metrics). Default 9090. */
  PORT: env.int(9090),
  /** Port of /healthz, /readyz and /metrics, kept off the public API port. Default 9094. */
  OPS_PORT: env.int(9094),
  /** Most ids accepted in one POST /callback. Default 10000. */
  CALLBACK_MAX_IDS: env.int(10_000, 1),
  /** Largest request body in bytes. Default 1 MiB. */
  BODY_LIMIT_BYTES: env.int(1_048_576, 1),
  /**
   * How long a request waits for broker confirms before spilling to the outbox. The upstream
   * gives a callback 1 s in all, so this leaves room for the outbox write. Default 400 ms.
   */
  PUBLISH_TIMEOUT_MS: env.int(400, 1),
  /** How long an Idempotency-Key and its answer are kept (POST /v1/jobs, POST /callback). Default 24 h. */
  IDEMPOTENCY_KEY_TTL_MS: env.int(86_400_000, 1_000),
  /**
   * A request holding its Idempotency-Key this long unanswered is taken for lost (its producer
   * died): a repeat of it runs again. Default 60 s.
   */
  IDEMPOTENCY_ABANDON_MS: env.int(60_000, 1_000),
  /**
   * Per-client limits, shared by every producer replica; 0 turns one off (the default). Submits
   * (POST /v1/jobs, /v1/images and the old APIs' submits) and POST /callback requests a client may
   * make per RATE_LIMIT_WINDOW_MS; past them, 429 with Retry-After and the RateLimit headers.
   */
  RATE_LIMIT_SUBMITS: env.int(0, 0),
  RATE_LIMIT_CALLBACKS: env.int(0, 0),
  /** The rate limits' window, in ms. Default 1000. */
  RATE_LIMIT_WINDOW_MS: env.int(1_000, 100),
  /** Unfinished jobs (scheduled, queued, running) a client may have; past it, submits get 429. 0: no cap (the default). */
  MAX_JOBS_IN_FLIGHT: env.int(0, 0),
  /** How often a producer re-reads a client's jobs in flight while it submits, in ms. Default 500. */
  IN_FLIGHT_REFRESH_MS: env.int(500, 10),
  /** How often the outbox relay looks for spilled messages. Default 500 ms. */
  OUTBOX_POLL_MS: env.int(500, 10),
  /** Require `Authorization: Bearer <api key>` on the jobs API and POST /callback. Default false (one default client, open callback). */
  AUTH_ENABLED: env.bool(false),
  /**
   * With auth on, a secret the old upstream (which cannot send an API key) sends on POST /callback
   * in CALLBACK_SECRET_HEADER instead; at least 16 characters. Default unset: a key is needed.
   */
  CALLBACK_SHARED_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /** The header carrying CALLBACK_SHARED_SECRET. Default x-callback-secret. */
  CALLBACK_SECRET_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be a header name (letters, digits, -)')
    .default('x-callback-secret')
    .transform((name) => name.toLowerCase()),
  /**
   * With auth on, comma-separated addresses or CIDR ranges (`10.1.0.0/16,2001:db8::/32`) the old
   * upstream posts /callback from without an API key; with CALLBACK_SHARED_SECRET set too, both
   * must hold. Matched against the TCP peer, not X-Forwarded-For. Default empty: a key is needed.
   */
  CALLBACK_ALLOWED_SOURCES: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const entries = text
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== '');
      for (const entry of entries) {
        if (!parseCidr(entry))
          ctx.addIssue({ code: 'custom', message: `"${entry}" is not an address or a CIDR range` });
      }
      return entries;
    }),
  /**
   * The built dashboard served at /ui (index.html and assets/). Default: the dist/ui folder of
   * the @conveyor/dashboard package, which `pnpm build` fills.
   */
  UI_DIR: z.string().min(1).optional(),
  /**
   * Origins whose browser pages may call the API (CORS), comma-separated, e.g.
   * `https://app.example.com`; `*` for any. Default none: the dashboard at /ui is same-origin.
   */
  CORS_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((origin) => origin.trim())
        .filter((origin) => origin !== ''),
    )
    .pipe(
      z.array(
        z.union([
          z.literal('*'),
          z.url().regex(/^https?:\/\/[^/]+$/, 'must be an origin: scheme://host[:port], no path'),
        ]),
      ),
    ),
  /**
   * Furthest ahead a job may be submitted to run (`runAt`, `delayMs`), in ms; beyond it the
   * submit is a 400. Default 366 days.
   */
  JOB_MAX_DELAY_MS: env.int(366 * 86_400_000, 0),
  /** Longest number a factorize job accepts, in decimal digits. Default 100. */
  FACTORIZE_MAX_DIGITS: env.int(100, 1),
  /** The default client's webhook signing secret (`whsec_…`) while authentication is off. */
  WEBHOOK_SECRET: z.string().startsWith('whsec_', 'must start with whsec_').optional(),
  /** After a secret rotation, how long the previous secret keeps signing too, in ms. Default 24 h. */
  WEBHOOK_SECRET_OVERLAP_MS: env.int(24 * 3600 * 1000, 0),
  /** Public URL of this API, for links to results too large to inline in webhooks. */
  PUBLIC_BASE_URL: env.url('http://127.0.0.1:9090'),
  /** Largest image upload in bytes (413 above). Default 25 MiB. */
  IMAGE_MAX_UPLOAD_BYTES: env.int(25 * 1024 * 1024, 1),
  /** Largest width or height a resize may ask for. Default 8192. */
  IMAGE_MAX_DIMENSION: env.int(8192, 1),
  /**
   * A producer publishes its new jobs' work messages itself, with the job row as the record of
   * what is still to send (no outbox row per job); it holds a lease renewed every
   * DISPATCH_RENEW_MS. When it dies, another process re-sends its unconfirmed jobs once the
   * lease has run out for DISPATCH_LEASE_MS: that is how late such a job can start. Defaults
   * 10000 and 1000.
   */
  DISPATCH_LEASE_MS: env.int(10_000, 100),
  DISPATCH_RENEW_MS: env.int(1_000, 10),
  /**
   * RabbitMQ's management API (`http://user:password@host:15672`), for the operator's queue
   * figures (ready, unacknowledged, rates). Unset: the figures come from AMQP (ready messages
   * and consumers only). Default unset.
   */
  RABBITMQ_MANAGEMENT_URL: z.url().optional(),
  /**
   * A worker host is shown alive while its last heartbeat is younger than this, in ms: three of
   * the consumers' WORKER_HEARTBEAT_MS (5 s). Default 15000.
   */
  WORKER_ALIVE_WINDOW_MS: env.int(15_000, 1),
  /** Test-only fault injection: `crash-after-commit` kills the process between a job's commit and its publish. */
  FAULT_INJECTION: z.enum(['none', 'crash-after-commit']).default('none'),
});
export type ProducerConfig = z.infer<typeof ProducerEnv>;
