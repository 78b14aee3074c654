import type { Server } from 'node:http';
import express from 'express';
import { Broker, publishOutgoing, workTopology } from '@conveyor/broker';
import { topologyNames } from '@conveyor/contracts';
import { createDatabase, migrateToLatest, OutboxRelay, type DatabaseHandle } from '@conveyor/database';
import { DeliveryStore, JobStore, WebhookSecretStore } from '@conveyor/jobs';
import { openBlobStore, storeSettingsFrom, validateLocalPath } from '@conveyor/storage';
import { DEFAULT_IMAGE_LIMITS } from '@conveyor/contracts';
import { boundPort, closeServer, createMetrics, listen, retryUntilSuccess, sleep, type Logger, type Metrics } from '@conveyor/platform';
import { findClientIdByKey } from './adapters/api-client.repository.js';
import { DurablePublisher } from './adapters/durable-publisher.js';
import type { ProducerConfig } from './config.js';
import { callbackRouter } from './http/callback.routes.js';
import { authenticate } from './http/auth.js';
import { deliveriesRouter } from './http/deliveries.routes.js';
import { createHttpApp } from './http/http-app.js';
import { jobsRouter } from './http/jobs.routes.js';
import { legacyFactorRouter } from './http/legacy-factor.routes.js';
import { legacyTasksRouter } from './http/legacy-tasks.routes.js';
import { imagesRouter, legacyImagesRouter } from './http/images.routes.js';
import { openApiDocument, openApiRouter } from './http/openapi.js';

const BROKER_START_GRACE_MS = 5_000;

/**
 * The producer: HTTP API in, durable messages out. Starts serving as soon as the database is
 * migrated; the broker connects in the background, and until it does callbacks go to the outbox.
 */
export class ProducerApp {
  private readonly metrics: Metrics;
  private readonly database: DatabaseHandle;
  private readonly broker: Broker;
  private readonly relay: OutboxRelay;
  private server: Server | undefined;

  constructor(
    private readonly config: ProducerConfig,
    private readonly log: Logger,
  ) {
    const names = topologyNames(config.AMQP_PREFIX);
    this.metrics = createMetrics('producer');
    this.database = createDatabase({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, poolMax: config.DATABASE_POOL_MAX, log });
    this.broker = new Broker({
      url: config.AMQP_URL,
      connectionName: 'conveyor-producer',
      log,
      metrics: this.metrics,
      topology: workTopology(names, { kinds: ['object.check', 'job.factorize', 'job.csv-sum', 'job.image-resize'], retryDelaysMs: config.RETRY_DELAYS_MS, deliveryLimit: config.DELIVERY_LIMIT }),
    });
    this.relay = new OutboxRelay(
      {
        db: this.database.db,
        publish: (message) => publishOutgoing(this.broker, message, { timeoutMs: 5_000 }),
        isReady: () => this.broker.connected,
        log,
      },
      // Job messages are sent right after their commit; the relay only picks up what that missed.
      { pollMs: config.OUTBOX_POLL_MS, batchSize: 500, minAgeMs: 2_000 },
    );
    const publisher = new DurablePublisher({
      broker: this.broker,
      db: this.database.db,
      log,
      metrics: this.metrics,
      publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
    });
    this.app = createHttpApp({
      log,
      metrics: this.metrics,
      bodyLimitBytes: config.BODY_LIMIT_BYTES,
      readiness: [
        { name: 'database', check: () => this.database.ping() },
        { name: 'broker', check: () => this.broker.connected },
      ],
      routers: [
        openApiRouter(openApiDocument(config.CALLBACK_MAX_IDS)),
        callbackRouter({ publisher, names, maxIds: config.CALLBACK_MAX_IDS }),
        this.jobRouters(names),
      ],
    });
  }

  private readonly app;

  private jobRouters(names: ReturnType<typeof topologyNames>): express.Router {
    const { config } = this;
    const store = new JobStore(this.database.db, names);
    const deps = {
      store,
      limits: {
        factorizeMaxDigits: config.FACTORIZE_MAX_DIGITS,
        checkLocalPath: async (path: string) => void (await validateLocalPath(config.STORAGE_ROOT, path)),
      },
      sendNow: (messages: Parameters<OutboxRelay['sendNow']>[0]) => this.relay.sendNow(messages),
      afterCommit: config.FAULT_INJECTION === 'crash-after-commit' ? () => process.kill(process.pid, 'SIGKILL') : undefined,
    };
    const imageDeps = {
      ...deps,
      images: openBlobStore(config.IMAGE_STORE, storeSettingsFrom(config)),
      bucket: config.IMAGE_BUCKET,
      limits: {
        ...deps.limits,
        image: { ...DEFAULT_IMAGE_LIMITS, maxDimension: config.IMAGE_MAX_DIMENSION, maxInputBytes: config.IMAGE_MAX_UPLOAD_BYTES },
        maxUploadBytes: config.IMAGE_MAX_UPLOAD_BYTES,
      },
    };
    const router = express.Router();
    router.use(['/v1', '/factor', '/get', '/tasks', '/api/v1'], authenticate({ enabled: config.AUTH_ENABLED, findClientId: (key) => findClientIdByKey(this.database.db, key) }));
    router.use(
      jobsRouter(deps),
      legacyFactorRouter(deps),
      legacyTasksRouter(deps),
      imagesRouter(imageDeps),
      legacyImagesRouter(imageDeps),
      deliveriesRouter({
        jobs: store,
        deliveries: new DeliveryStore(this.database.db),
        secrets: new WebhookSecretStore(this.database.db, config.WEBHOOK_SECRET),
        publicBaseUrl: config.PUBLIC_BASE_URL,
        secretOverlapMs: config.WEBHOOK_SECRET_OVERLAP_MS,
      }),
    );
    return router;
  }

  get port(): number {
    if (!this.server) throw new Error('producer is not listening');
    return boundPort(this.server);
  }

  async start(): Promise<void> {
    await retryUntilSuccess('database migration', () => migrateToLatest(this.database.db, this.config.DATABASE_SCHEMA, this.log), {
      log: this.log,
    });
    // Serve even while the broker is down (the outbox takes the work), but give a healthy
    // broker the moment it needs to connect so the first callbacks go straight to it.
    const brokerUp = this.broker.start();
    await Promise.race([brokerUp, sleep(BROKER_START_GRACE_MS)]);
    this.relay.start();
    this.server = await listen(this.app, this.config.PORT);
    this.log.info('producer listening', { port: this.port });
  }

  async stop(): Promise<void> {
    if (this.server) await closeServer(this.server);
    await this.relay.stop();
    await this.broker.close();
    await this.database.close();
    this.metrics.stop();
  }
}
