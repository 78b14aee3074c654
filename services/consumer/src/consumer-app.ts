import { OBJECT_CHECK, startMessageConsumer } from '@conveyor/broker';
import type { OutboxRelay } from '@conveyor/database';
import { JobStore, jobStoreOptionsFrom, PauseWatcher } from '@conveyor/jobs';
import type { Logger, SpanExporter } from '@conveyor/platform';
import { ServiceCore } from '@conveyor/runtime';
import type { LoadedJobKind } from '@conveyor/worker';
import { BuiltInKinds } from './built-in-kinds.js';
import type { ConsumerConfig } from './config.js';
import { JobHost, moduleTopology } from './job-host/job-host.js';
import { LastSeenWriter } from './object-check/last-seen.writer.js';
import { objectCheckHandler } from './object-check/object-check.consumer.js';
import { ObjectStatusClient } from './object-check/object-status.client.js';
import { PausableConsumer } from './pause/pausable-consumer.js';

export interface ConsumerAppOptions {
  /** Job modules to host (loaded from WORKER_MODULES by main.ts, or given by a test). */
  jobModules?: readonly LoadedJobKind[];
  /** Where a test collects the spans (tracing is on with one). */
  spanExporter?: SpanExporter;
}

/**
 * The workers: the object checks on their own lean path (one message per id, no job row), and a
 * host of job kinds — the built-in ones and the modules of WORKER_MODULES alike.
 */
export class ConsumerApp {
  private readonly core: ServiceCore;
  private readonly statusClient: ObjectStatusClient;
  private readonly writer: LastSeenWriter;
  private readonly consumers: PausableConsumer[] = [];
  private readonly pauses: PauseWatcher;
  private readonly relay: OutboxRelay;
  private readonly builtIn: BuiltInKinds | undefined;
  private readonly checksObjects: boolean;
  private readonly kinds: readonly LoadedJobKind[];
  private jobHost: JobHost | undefined;

  constructor(
    private readonly config: ConsumerConfig,
    private readonly log: Logger,
    options: ConsumerAppOptions = {},
  ) {
    const builtInJobKinds = config.BUILT_IN_KINDS.filter((work) => work !== 'object-check');
    this.checksObjects = config.BUILT_IN_KINDS.includes('object-check');
    this.builtIn = builtInJobKinds.length > 0 ? new BuiltInKinds(config, builtInJobKinds) : undefined;
    // Every kind has a timeout: the default where it names none (registered with it, so a submit
    // asking for more than its kind allows is refused by the producer).
    this.kinds = [...(this.builtIn?.kinds ?? []), ...(options.jobModules ?? [])].map((kind) =>
      kind.timeoutMs === null ? { ...kind, timeoutMs: config.JOB_DEFAULT_TIMEOUT_MS } : kind,
    );
    const topology = moduleTopology(this.kinds);
    this.core = new ServiceCore('consumer', config, log, {
      kinds: [...(this.checksObjects ? (['object.check'] as const) : []), ...topology.messageKinds],
      extraRetryDelaysMs: topology.retryDelaysMs,
      spanExporter: options.spanExporter,
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
    });
    this.pauses = new PauseWatcher({
      db: this.core.database.db,
      databaseUrl: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      log,
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
    const { config, log, core } = this;
    await core.migrate();
    // Before any consumer: a host starting while its kind is paused must not consume it.
    await this.pauses.start();
    const deps = { broker: core.broker, names: core.names, log, metrics: core.metrics };
    if (this.checksObjects) {
      const objectChecks = new PausableConsumer(
        OBJECT_CHECK,
        () =>
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
        this.pauses,
        log,
      );
      objectChecks.start();
      this.consumers.push(objectChecks);
    }
    this.relay.start();
    await core.serve(config.OPS_PORT);
    await core.broker.start();
    // After the broker has declared the kinds' queues: a registered kind is one producers accept.
    this.jobHost = new JobHost(
      {
        db: core.database.db,
        consumer: deps,
        store: new JobStore(core.database.db, core.names, jobStoreOptionsFrom(config)),
        sendNow: (messages) => this.relay.sendNow(messages),
        log,
        tracing: core.tracing,
        pauses: this.pauses,
      },
      this.kinds,
      {
        resultTtlMs: config.RESULT_TTL_MS,
        checkIntervalMs: config.JOB_CHECK_INTERVAL_MS,
        runningAfterMs: config.JOB_RUNNING_AFTER_MS,
        ackHoldMs: config.JOB_ACK_HOLD_MS,
        threads: config.JOB_THREADS,
        heartbeatMs: config.WORKER_HEARTBEAT_MS,
      },
    );
    await this.jobHost.start();
    log.info('consumer started', { opsPort: this.opsPort, kinds: this.kinds.map((kind) => kind.kind) });
  }

  async stop(): Promise<void> {
    await this.jobHost?.stop();
    await Promise.all(this.consumers.map((c) => c.stop()));
    await this.pauses.stop();
    this.writer.stop();
    await this.relay.stop();
    await this.builtIn?.close();
    await this.statusClient.close();
    await this.core.close();
  }
}
