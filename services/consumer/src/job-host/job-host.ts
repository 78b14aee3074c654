import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { startMessageConsumer, type ConsumerHandle, type MessageConsumerDeps } from '@conveyor/broker';
import { retryTierDelays } from '@conveyor/contracts';
import { JobKindRegistry, WorkerHostRegistry, type JobStore, type PauseWatcher } from '@conveyor/jobs';
import { errorMessage, type Logger, type Tracing } from '@conveyor/platform';
import type { OutboxMessage, Database, Kysely } from '@conveyor/database';
import { JobThreadPool, type JsonSchema, type LoadedJobKind } from '@conveyor/worker';
import { jobHandler } from '../job-runner/job.consumer.js';
import { moduleWork } from './module-work.js';
import { PausableConsumer } from '../pause/pausable-consumer.js';

export interface JobHostDeps {
  db: Kysely<Database>;
  consumer: MessageConsumerDeps;
  store: JobStore;
  sendNow: (messages: OutboxMessage[]) => Promise<void>;
  log: Logger;
  tracing?: Tracing | undefined;
  /** A paused kind's queue is not consumed (see PausableConsumer). */
  pauses: PauseWatcher;
}

export interface JobHostOptions {
  resultTtlMs: number;
  checkIntervalMs: number;
  runningAfterMs: number;
  /** Longest wait of a finished job's ack for a `multiple` ack (see consume). */
  ackHoldMs: number;
  threads: number;
  heartbeatMs: number;
}

/** `true` and `false` are JSON Schemas too (anything, nothing); the registry stores objects. */
function schemaObject(schema: JsonSchema): object {
  if (schema === true) return {};
  if (schema === false) return { not: {} };
  return schema;
}

/** Message kinds (for the broker topology) and retry tiers the modules' kinds need. */
export function moduleTopology(kinds: readonly LoadedJobKind[]): {
  messageKinds: `job.${string}`[];
  retryDelaysMs: number[];
} {
  return {
    messageKinds: kinds.map((kind) => `job.${kind.kind}` as const),
    retryDelaysMs: [...new Set(kinds.flatMap((kind) => retryTierDelays(kind.retry)))],
  };
}

/**
 * Hosts job modules: registers each kind (refusing to start when the registry holds another
 * schema under the same version), consumes each kind's queue with the kind's own concurrency,
 * retries and timeout, and heartbeats so operators and the registry see this host alive.
 * Queues are declared by the broker's topology before `start`, so a kind is registered (and
 * accepted by producers) only once its queue exists.
 */
export class JobHost {
  readonly id = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly pool: JobThreadPool | undefined;
  private readonly consumers: PausableConsumer[] = [];
  private readonly hosts: WorkerHostRegistry;
  private heartbeat: NodeJS.Timeout | undefined;
  private inFlight = 0;

  constructor(
    private readonly deps: JobHostDeps,
    private readonly kinds: readonly LoadedJobKind[],
    private readonly options: JobHostOptions,
  ) {
    this.hosts = new WorkerHostRegistry(deps.db);
    this.pool = kinds.some((kind) => kind.isolation === 'thread')
      ? new JobThreadPool({ threads: options.threads })
      : undefined;
  }

  async start(): Promise<void> {
    // A thread kind whose module a thread cannot load fails here, once, not on every job.
    for (const kind of this.kinds) if (kind.isolation === 'thread') await this.pool?.preload(kind);
    const registry = new JobKindRegistry(this.deps.db);
    for (const kind of this.kinds) {
      const {
        kind: name,
        version,
        inputJsonSchema,
        resultJsonSchema,
        schemaHash,
        concurrency,
        timeoutMs,
        retry,
        isolation,
      } = kind;
      await registry.register({
        kind: name,
        version,
        inputSchema: schemaObject(inputJsonSchema),
        resultSchema: resultJsonSchema === null ? null : schemaObject(resultJsonSchema),
        schemaHash,
        concurrency,
        timeoutMs,
        retry,
        isolation,
      });
      this.deps.log.info('job kind registered', { kind: name, version, concurrency, isolation });
    }
    for (const kind of this.kinds) {
      const consumer = new PausableConsumer(
        kind.kind,
        () => this.consume(kind),
        this.deps.pauses,
        this.deps.log,
      );
      consumer.start();
      this.consumers.push(consumer);
    }
    await this.beat();
    this.heartbeat = setInterval(() => {
      this.beat().catch((error: unknown) =>
        this.deps.log.warn('worker heartbeat failed', { error: errorMessage(error) }),
      );
    }, this.options.heartbeatMs);
    this.heartbeat.unref();
  }

  private consume(kind: LoadedJobKind): ConsumerHandle {
    const work = moduleWork(kind, { pool: this.pool, log: this.deps.log });
    const handler = jobHandler(
      {
        store: this.deps.store,
        sendNow: this.deps.sendNow,
        maxAttempts: kind.retry.maxAttempts,
        resultTtlMs: this.options.resultTtlMs,
        checkIntervalMs: this.options.checkIntervalMs,
        runningAfterMs: this.options.runningAfterMs,
        tracing: this.deps.tracing,
      },
      async (job, ctx) => {
        this.inFlight++;
        try {
          return await work(job, ctx);
        } finally {
          this.inFlight--;
        }
      },
    );
    return startMessageConsumer(
      this.deps.consumer,
      {
        kind: `job.${kind.kind}`,
        // Held acks keep their deliveries unacknowledged a little longer: twice the kind's
        // concurrency in flight keeps its slots busy meanwhile, and the runs of finished jobs
        // go as one `multiple` ack instead of one settle command each through the quorum queue.
        prefetch: this.options.ackHoldMs > 0 ? 2 * kind.concurrency : kind.concurrency,
        concurrency: kind.concurrency,
        ackHoldMs: this.options.ackHoldMs,
        retryDelaysMs: retryTierDelays(kind.retry),
        maxAttempts: kind.retry.maxAttempts,
      },
      handler,
    );
  }

  private beat(): Promise<void> {
    const kinds = this.kinds.map((kind) => kind.kind);
    return this.hosts.heartbeat({
      id: this.id,
      hostname: hostname(),
      pid: process.pid,
      kinds,
      inFlight: this.inFlight,
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.heartbeat);
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
    await this.pool?.close();
    await this.hosts.remove(this.id).catch((error: unknown) =>
      this.deps.log.warn('could not remove this worker host from the registry', {
        error: errorMessage(error),
      }),
    );
  }
}
