import type { Server } from 'node:http';
import { Broker, publishOutgoing, startMessageConsumer, workTopology, type ConsumerHandle } from '@conveyor/broker';
import { topologyNames } from '@conveyor/contracts';
import { createDatabase, migrateToLatest, OutboxRelay, type DatabaseHandle } from '@conveyor/database';
import { JobStore } from '@conveyor/jobs';
import { boundPort, closeServer, createMetrics, listen, opsApp, retryUntilSuccess, type Logger, type Metrics } from '@conveyor/platform';
import { LastSeenWriter } from './adapters/last-seen.writer.js';
import { ObjectStatusClient } from './adapters/object-status.client.js';
import type { ConsumerConfig } from './config.js';
import { FactorizePool } from './adapters/factorize-pool.js';
import { csvSumWork } from './consumers/csv-sum.work.js';
import { factorizeWork } from './consumers/factorize.work.js';
import { WorkerTaskPool } from './adapters/worker-task-pool.js';
import { openBlobStore, storeSettingsFrom } from '@conveyor/storage';
import { configureSharp } from './domain/image/index.js';
import { imageResizeWork } from './consumers/image-resize.work.js';
import type { CsvSumOutcome, CsvSumTask } from './workers/csv-sum.worker.js';
import { join } from 'node:path';
import { jobHandler } from './consumers/job.consumer.js';
import { objectCheckHandler } from './consumers/object-check.consumer.js';

export interface ConsumerAppOptions {
  /** Folder holding the compiled worker-thread entry points (`dist/workers`). */
  workerDir: string;
}

/** The workers: one consumer per queue, each with its own concurrency. */
export class ConsumerApp {
  private readonly metrics: Metrics;
  private readonly database: DatabaseHandle;
  private readonly broker: Broker;
  private readonly statusClient: ObjectStatusClient;
  private readonly writer: LastSeenWriter;
  private readonly consumers: ConsumerHandle[] = [];
  private readonly relay: OutboxRelay;
  private readonly factorizePool: FactorizePool;
  private readonly csvSumPool: WorkerTaskPool<CsvSumTask, CsvSumOutcome>;
  private server: Server | undefined;

  constructor(
    private readonly config: ConsumerConfig,
    private readonly log: Logger,
    options: ConsumerAppOptions,
  ) {
    this.metrics = createMetrics('consumer');
    this.database = createDatabase({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, poolMax: config.DATABASE_POOL_MAX, log });
    this.broker = new Broker({
      url: config.AMQP_URL,
      connectionName: 'conveyor-consumer',
      log,
      metrics: this.metrics,
      topology: workTopology(topologyNames(config.AMQP_PREFIX), {
        kinds: ['object.check', 'job.factorize', 'job.csv-sum', 'job.image-resize'],
        retryDelaysMs: config.RETRY_DELAYS_MS,
        deliveryLimit: config.DELIVERY_LIMIT,
      }),
    });
    this.statusClient = new ObjectStatusClient({ baseUrl: config.OBJECTS_API_URL, timeoutMs: config.UPSTREAM_TIMEOUT_MS, maxSockets: config.MAX_CONSUMERS });
    this.relay = new OutboxRelay(
      { db: this.database.db, publish: (m) => publishOutgoing(this.broker, m, { timeoutMs: 5_000 }), isReady: () => this.broker.connected, log },
      { pollMs: 1_000, batchSize: 500, minAgeMs: 2_000 },
    );
    this.factorizePool = new FactorizePool({ workerDir: options.workerDir, threads: config.FACTORIZE_WORKERS });
    this.csvSumPool = new WorkerTaskPool({ filename: join(options.workerDir, 'csv-sum.worker.js'), threads: config.CSV_SUM_WORKERS });
    this.writer = new LastSeenWriter({ db: this.database.db, log }, { batchSize: config.WRITE_BATCH_SIZE, batchWaitMs: config.WRITE_BATCH_WAIT_MS });
  }

  get opsPort(): number {
    if (!this.server) throw new Error('consumer is not listening');
    return boundPort(this.server);
  }

  async start(): Promise<void> {
    const { config, log } = this;
    await retryUntilSuccess('database migration', () => migrateToLatest(this.database.db, config.DATABASE_SCHEMA, log), { log });
    const deps = { broker: this.broker, names: topologyNames(config.AMQP_PREFIX), log, metrics: this.metrics };
    this.consumers.push(
      startMessageConsumer(
        deps,
        { kind: 'object.check', prefetch: config.MAX_CONSUMERS, retryDelaysMs: config.RETRY_DELAYS_MS, maxAttempts: config.MAX_ATTEMPTS },
        objectCheckHandler({ statusClient: this.statusClient, writer: this.writer }),
      ),
    );
    const jobDeps = {
      store: new JobStore(this.database.db, topologyNames(config.AMQP_PREFIX)),
      sendNow: (messages: Parameters<OutboxRelay['sendNow']>[0]) => this.relay.sendNow(messages),
      maxAttempts: config.MAX_ATTEMPTS,
      resultTtlMs: config.RESULT_TTL_MS,
      checkIntervalMs: config.JOB_CHECK_INTERVAL_MS,
    };
    this.consumers.push(
      startMessageConsumer(
        deps,
        { kind: 'job.factorize', prefetch: config.FACTORIZE_CONCURRENCY, retryDelaysMs: config.RETRY_DELAYS_MS, maxAttempts: config.MAX_ATTEMPTS },
        jobHandler(jobDeps, factorizeWork(this.factorizePool, config.FACTORIZE_TIMEOUT_MS)),
      ),
      startMessageConsumer(
        deps,
        { kind: 'job.csv-sum', prefetch: config.CSV_SUM_CONCURRENCY, retryDelaysMs: config.RETRY_DELAYS_MS, maxAttempts: config.MAX_ATTEMPTS },
        jobHandler(jobDeps, csvSumWork(this.csvSumPool, storeSettingsFrom(config))),
      ),
      startMessageConsumer(
        deps,
        { kind: 'job.image-resize', prefetch: config.IMAGE_CONCURRENCY, retryDelaysMs: config.RETRY_DELAYS_MS, maxAttempts: config.MAX_ATTEMPTS },
        jobHandler(
          jobDeps,
          imageResizeWork(openBlobStore(config.IMAGE_STORE, storeSettingsFrom(config)), config.IMAGE_BUCKET, {
            maxDimension: config.IMAGE_MAX_DIMENSION,
            maxInputPixels: config.IMAGE_MAX_PIXELS,
            maxInputBytes: config.IMAGE_MAX_INPUT_BYTES,
          }),
        ),
      ),
    );
    configureSharp({ concurrency: config.SHARP_THREADS });
    this.relay.start();
    this.server = await listen(
      opsApp(this.metrics, [
        { name: 'database', check: () => this.database.ping() },
        { name: 'broker', check: () => this.broker.connected },
      ]),
      config.OPS_PORT,
    );
    await this.broker.start();
    log.info('consumer started', { opsPort: this.opsPort, maxConsumers: config.MAX_CONSUMERS });
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.cancel()));
    this.writer.stop();
    await this.relay.stop();
    await this.factorizePool.close();
    await this.csvSumPool.close();
    await this.broker.close();
    this.statusClient.close();
    if (this.server) await closeServer(this.server);
    await this.database.close();
    this.metrics.stop();
  }
}
