import { startMessageConsumer, type ConsumerHandle, type MessageConsumerDeps } from '@conveyor/broker';
import { BuiltInJobKind } from '@conveyor/contracts';
import type { OutboxRelay } from '@conveyor/database';
import { JobStore } from '@conveyor/jobs';
import { ConcurrencyLimit, type Logger } from '@conveyor/platform';
import { ServiceCore } from '@conveyor/runtime';
import { openBlobStore, storeSettingsFrom } from '@conveyor/storage';
import type { LoadedJobKind } from '@conveyor/worker';
import { FactorizePool } from './factorize/factorize-pool.js';
import { LastSeenWriter } from './object-check/last-seen.writer.js';
import { ObjectStatusClient } from './object-check/object-status.client.js';
import { WorkerTaskPool } from './worker-threads/worker-task-pool.js';
import type { ConsumerConfig } from './config.js';
import { csvSumWork } from './csv-sum/csv-sum.work.js';
import { factorizeWork } from './factorize/factorize.work.js';
import { imageResizeWork } from './image-resize/image-resize.work.js';
import { jobHandler, type JobConsumerDeps } from './job-runner/job.consumer.js';
import { JobHost, moduleTopology } from './job-host/job-host.js';
import { objectCheckHandler } from './object-check/object-check.consumer.js';
import { configureSharp } from './image-resize/domain/index.js';
import type { CsvSumOutcome, CsvSumTask } from './csv-sum/csv-sum.worker.js';

/**
 * How long the ids of sent outbox rows collect before one DELETE removes them: every job sends
 * two messages from this process, and a delete every 5 ms (the relay's default) was one commit in
 * seven of the whole job path (0.21 -> 0.18 commits a job). The rows are only waste until then;
 * the relay leaves rows younger than minAgeMs (2 s) alone, so nothing is sent twice.
 */
const SENT_ROWS_DELETE_WAIT_MS = 50;

export interface ConsumerAppOptions {
  /** The consumer's compiled folder (`dist`): worker threads load their modules from it. */
  distDir: string;
  /** Job modules to host (loaded from WORKER_MODULES by main.ts, or given by a test). */
  jobModules?: readonly LoadedJobKind[];
}

const BUILT_IN_MESSAGE_KINDS = ['object.check', 'job.factorize', 'job.csv-sum', 'job.image-resize'] as const;

/** The workers: one consumer per queue, each with its own concurrency. */
export class ConsumerApp {
  private readonly core: ServiceCore;
  private readonly statusClient: ObjectStatusClient;
  private readonly writer: LastSeenWriter;
  private readonly consumers: ConsumerHandle[] = [];
  private readonly relay: OutboxRelay;
  private readonly factorizePool: FactorizePool;
  private readonly csvSumPool: WorkerTaskPool<CsvSumTask, CsvSumOutcome>;
  private readonly jobModules: readonly LoadedJobKind[];
  private jobHost: JobHost | undefined;

  constructor(
    private readonly config: ConsumerConfig,
    private readonly log: Logger,
    options: ConsumerAppOptions,
  ) {
    this.jobModules = options.jobModules ?? [];
    const modules = moduleTopology(this.jobModules);
    this.core = new ServiceCore('consumer', config, log, {
      kinds: [...(config.BUILT_IN_KINDS ? BUILT_IN_MESSAGE_KINDS : []), ...modules.messageKinds],
      extraRetryDelaysMs: modules.retryDelaysMs,
    });
    this.statusClient = new ObjectStatusClient({
      baseUrl: config.OBJECTS_API_URL,
      timeoutMs: config.UPSTREAM_TIMEOUT_MS,
      maxSockets: config.OBJECT_CHECKS_IN_FLIGHT,
    });
    this.relay = this.core.outboxRelay({
      pollMs: 1_000,
      batchSize: 500,
      minAgeMs: 2_000,
      deleteBatchWaitMs: SENT_ROWS_DELETE_WAIT_MS,
    });
    this.factorizePool = new FactorizePool({
      distDir: options.distDir,
      threads: config.FACTORIZE_WORKERS,
    });
    this.csvSumPool = new WorkerTaskPool({
      distDir: options.distDir,
      worker: 'csv-sum/csv-sum.worker.js',
      threads: config.CSV_SUM_WORKERS,
    });
    this.writer = new LastSeenWriter(
      { db: this.core.database.db, log },
      { batchSize: config.WRITE_BATCH_SIZE, batchWaitMs: config.WRITE_BATCH_WAIT_MS },
    );
  }

  get opsPort(): number {
    return this.core.port;
  }

  async start(): Promise<void> {
    const { config, log } = this;
    const { core } = this;
    await core.migrate();
    const deps = { broker: core.broker, names: core.names, log, metrics: core.metrics };
    const jobDeps = {
      store: new JobStore(core.database.db, core.names, {
        batch: { maxItems: config.JOB_BATCH_MAX, maxWaitMs: config.JOB_BATCH_WAIT_MS },
      }),
      sendNow: (messages: Parameters<OutboxRelay['sendNow']>[0]) => this.relay.sendNow(messages),
      maxAttempts: config.MAX_ATTEMPTS,
      resultTtlMs: config.RESULT_TTL_MS,
      checkIntervalMs: config.JOB_CHECK_INTERVAL_MS,
    };
    if (config.BUILT_IN_KINDS) this.startBuiltInKinds(deps, jobDeps);
    this.relay.start();
    await core.serve(config.OPS_PORT);
    await core.broker.start();
    if (this.jobModules.length > 0) {
      // After the broker has declared the modules' queues: a registered kind is one producers accept.
      this.jobHost = new JobHost(
        { db: core.database.db, consumer: deps, store: jobDeps.store, sendNow: jobDeps.sendNow, log },
        this.jobModules,
        {
          resultTtlMs: config.RESULT_TTL_MS,
          checkIntervalMs: config.JOB_CHECK_INTERVAL_MS,
          threads: config.JOB_THREADS,
          heartbeatMs: config.WORKER_HEARTBEAT_MS,
          otherKinds: config.BUILT_IN_KINDS ? BuiltInJobKind.options : [],
        },
      );
      await this.jobHost.start();
    }
    log.info('consumer started', {
      opsPort: this.opsPort,
      builtInKinds: config.BUILT_IN_KINDS,
      modules: this.jobModules.map((kind) => kind.kind),
    });
  }

  /** The object checks and the three built-in job kinds, each on its own queue. */
  private startBuiltInKinds(deps: MessageConsumerDeps, jobDeps: JobConsumerDeps): void {
    const { config } = this;
    this.consumers.push(
      startMessageConsumer(
        deps,
        {
          kind: 'object.check',
          prefetch:
            config.ACK_HOLD_MS > 0 ? 2 * config.OBJECT_CHECKS_IN_FLIGHT : config.OBJECT_CHECKS_IN_FLIGHT,
          concurrency: config.OBJECT_CHECKS_IN_FLIGHT,
          ackHoldMs: config.ACK_HOLD_MS,
          retryDelaysMs: config.RETRY_DELAYS_MS,
          maxAttempts: config.MAX_ATTEMPTS,
        },
        objectCheckHandler({ statusClient: this.statusClient, writer: this.writer }),
      ),
    );
    this.consumers.push(
      startMessageConsumer(
        deps,
        {
          kind: 'job.factorize',
          prefetch: config.FACTORIZE_CONCURRENCY,
          retryDelaysMs: config.RETRY_DELAYS_MS,
          maxAttempts: config.MAX_ATTEMPTS,
        },
        jobHandler(jobDeps, factorizeWork(this.factorizePool, config.FACTORIZE_TIMEOUT_MS)),
      ),
      startMessageConsumer(
        deps,
        {
          kind: 'job.csv-sum',
          prefetch: config.CSV_SUM_CONCURRENCY,
          retryDelaysMs: config.RETRY_DELAYS_MS,
          maxAttempts: config.MAX_ATTEMPTS,
        },
        jobHandler(jobDeps, csvSumWork(this.csvSumPool, storeSettingsFrom(config))),
      ),
      startMessageConsumer(
        deps,
        {
          kind: 'job.image-resize',
          prefetch: config.IMAGE_CONCURRENCY,
          retryDelaysMs: config.RETRY_DELAYS_MS,
          maxAttempts: config.MAX_ATTEMPTS,
        },
        jobHandler(
          jobDeps,
          imageResizeWork(
            openBlobStore(config.IMAGE_STORE, storeSettingsFrom(config)),
            config.IMAGE_BUCKET,
            {
              maxDimension: config.IMAGE_MAX_DIMENSION,
              maxInputPixels: config.IMAGE_MAX_PIXELS,
              maxInputBytes: config.IMAGE_MAX_INPUT_BYTES,
            },
            new ConcurrencyLimit(config.IMAGE_RESIZES_AT_ONCE),
          ),
        ),
      ),
    );
    configureSharp({ concurrency: config.SHARP_THREADS });
  }

  async stop(): Promise<void> {
    await this.jobHost?.stop();
    await Promise.all(this.consumers.map((c) => c.cancel()));
    this.writer.stop();
    await this.relay.stop();
    await this.factorizePool.close();
    await this.csvSumPool.close();
    await this.statusClient.close();
    await this.core.close();
  }
}
