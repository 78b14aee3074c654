import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { jobStoreEnvShape } from '@conveyor/jobs';
import { commonEnvShape, env, renamedVariables } from '@conveyor/platform';
import { storageEnvShape } from '@conveyor/storage';

/** The work a consumer can run without job modules: the object checks and the built-in job kinds. */
export const BUILT_IN_WORK = ['object-check', 'factorize', 'csv-sum', 'image-resize'] as const;
export type BuiltInWork = (typeof BUILT_IN_WORK)[number];

function isBuiltInWork(name: string): name is BuiltInWork {
  return (BUILT_IN_WORK as readonly string[]).includes(name);
}

const ConsumerVariables = z.object({
  ...commonEnvShape,
  ...jobStoreEnvShape,
  ...storageEnvShape,
  /** Port of /healthz, /readyz and /metrics. Default 9091. */
  OPS_PORT: env.int(9091),
  /**
   * Object checks in flight per process. The upstream takes 0.3–4.3 s per id, so throughput ≈
   * OBJECT_CHECKS_IN_FLIGHT / 2.3 s. The AMQP prefetch is twice this when acks are held (ACK_HOLD_MS), so
   * held acks never take places from running checks. Default 5000.
   */
  OBJECT_CHECKS_IN_FLIGHT: env.int(5_000, 1),
  /**
   * Longest time a finished object check's ack waits for the checks delivered before it, so that
   * a run of finished checks is acknowledged with one `multiple` ack instead of one command per
   * message through the quorum queue (about 2,200 ack commands/s become a few dozen). A crash
   * redelivers the held ones: harmless, the upsert never moves last_seen backwards. 0 acks each
   * at once. Default 5000.
   */
  ACK_HOLD_MS: env.int(5_000, 0),
  /** Base URL of the object-status API (`GET {url}/objects/:id`). */
  OBJECTS_API_URL: env.url('http://127.0.0.1:9010'),
  /** Deadline of one upstream request in ms, connection included. Default 10000. */
  UPSTREAM_TIMEOUT_MS: env.int(10_000, 1),
  /** Most rows in one last_seen upsert. Default 500. */
  WRITE_BATCH_SIZE: env.int(500, 1),
  /**
   * How long a row may wait for its batch to fill, in ms. A check takes 0.3–4.3 s upstream, so
   * 50 ms more before its ack costs nothing, while one commit (one fsync) per ~100 rows instead of
   * per ~10 halved PostgreSQL's CPU at 2,200 checks/s and freed the disk for RabbitMQ's WAL
   * (docs/benchmarks.md). Default 50.
   */
  WRITE_BATCH_WAIT_MS: env.int(50, 0),
  /** Factorization jobs run at once per process (the prefetch of their queue). Default 4. */
  FACTORIZE_CONCURRENCY: env.int(4, 1),
  /** Worker threads for factorization. Default: the number of CPUs. */
  FACTORIZE_WORKERS: env.int(availableParallelism(), 1),
  /** A factorization still running after this long fails with a `timeout` error, in ms. Default 300000. */
  FACTORIZE_TIMEOUT_MS: env.int(300_000, 1),
  /**
   * The timeout of every job kind that names none (csv-sum, image-resize, modules without
   * `timeoutMs`), per attempt: every kind has one, and a job may ask for less. Default 30 min.
   */
  JOB_DEFAULT_TIMEOUT_MS: env.int(1_800_000, 1),
  /** CSV-sum jobs at once per process (the prefetch of their queue). Default 4. */
  CSV_SUM_CONCURRENCY: env.int(4, 1),
  /** Worker threads for CSV sums. Default: the number of CPUs. */
  CSV_SUM_WORKERS: env.int(availableParallelism(), 1),
  /**
   * Image jobs in flight per process (the prefetch of their queue): more than resize at once, so
   * one job's reads, writes and commits overlap another's resize. Default 4.
   */
  IMAGE_CONCURRENCY: env.int(4, 1),
  /**
   * Of those, resizes inside sharp at once. Each holds a libuv pool thread (UV_THREADPOOL_SIZE,
   * default 4) for its whole decode/encode, and file reads, writes and DNS lookups of every queue
   * wait behind them in that pool, so this stays below the pool size. Default: the number of CPUs
   * (with SHARP_THREADS=1, enough to keep every core busy), at most 3 (one below the default pool);
   * raise UV_THREADPOOL_SIZE in the environment before raising this.
   */
  IMAGE_RESIZES_AT_ONCE: env.int(Math.min(availableParallelism(), 3), 1),
  /** libvips threads per resize; resizes × threads ≈ cores keeps other queues fed. Default 1. */
  SHARP_THREADS: env.int(1, 1),
  /** Largest width or height, and largest decoded image in pixels (decompression bombs). */
  IMAGE_MAX_DIMENSION: env.int(8192, 1),
  IMAGE_MAX_PIXELS: env.int(50_000_000, 1),
  /** Largest original read from storage, in bytes. Default 50 MiB. */
  IMAGE_MAX_INPUT_BYTES: env.int(50 * 1024 * 1024, 1),
  /** How long finished jobs' results are kept, in ms. Default 30 days. */
  RESULT_TTL_MS: env.int(30 * 24 * 3600 * 1000, 1),
  /** How often a running job writes its progress and reads its cancel flag, in ms. Default 500. */
  JOB_CHECK_INTERVAL_MS: env.int(500, 10),
  /**
   * A job still running after this long is committed as `running` (and from then on heartbeats
   * and reports progress); one that ends sooner goes from queued to its end in one change, which
   * halves what a short job writes. Default 100.
   */
  JOB_RUNNING_AFTER_MS: env.int(100, 0),
  /**
   * Longest wait of a finished job's ack for the jobs delivered before it, so that runs of
   * finished jobs are acknowledged with one `multiple` ack. Their final state has committed
   * already: a crash only redelivers them, and a message for a finished job runs nothing. 0 acks
   * each at once. Default 20.
   */
  JOB_ACK_HOLD_MS: env.int(20, 0),
  /**
   * Job modules this process hosts besides (or, with BUILT_IN_KINDS=false, instead of) the
   * built-in kinds: comma-separated paths or file URLs of modules whose default export is a job
   * definition (see @conveyor/worker). `pnpm worker <module>...` sets it. Default: none.
   */
  WORKER_MODULES: z
    .string()
    .default('')
    .transform((list) =>
      list
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
    ),
  /**
   * Which of the built-in kinds of work this process runs: `true` (all: `object-check`,
   * `factorize`, `csv-sum`, `image-resize`), `false` (none: a host of WORKER_MODULES only), or a
   * comma-separated list of them, so that each work queue can have a fleet of its own, scaled on
   * its own backlog. Default true.
   */
  BUILT_IN_KINDS: z
    .string()
    .default('true')
    .transform((text, ctx): BuiltInWork[] => {
      const value = text.trim();
      if (value === 'true' || value === '1') return [...BUILT_IN_WORK];
      if (value === 'false' || value === '0') return [];
      const named = value
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== '');
      const known = named.filter(isBuiltInWork);
      for (const name of named)
        if (!isBuiltInWork(name))
          ctx.addIssue({
            code: 'custom',
            message: `"${name}" is not a built-in kind (true, false, or some of ${BUILT_IN_WORK.join(', ')})`,
          });
      return known;
    }),
  /** Worker threads shared by hosted kinds with `isolation: 'thread'`. Default: the number of CPUs. */
  JOB_THREADS: env.int(availableParallelism(), 1),
  /** How often this host writes its heartbeat (kinds, jobs in flight) to the registry, in ms. Default 5000. */
  WORKER_HEARTBEAT_MS: env.int(5_000, 100),
});
/** MAX_CONSUMERS is OBJECT_CHECKS_IN_FLIGHT's old name: it counted checks, never consumers. */
export const ConsumerEnv = z.preprocess(
  renamedVariables({ MAX_CONSUMERS: 'OBJECT_CHECKS_IN_FLIGHT' }),
  ConsumerVariables,
);
export type ConsumerConfig = z.infer<typeof ConsumerEnv>;
