import express from 'express';
import { DEFAULT_IMAGE_LIMITS } from '@conveyor/kind-image-resize/contract';
import type { NotificationListener, OutboxRelay } from '@conveyor/database';
import { JobDispatcher, JobKindRegistry, JobStore, jobStoreOptionsFrom, ScheduleStore } from '@conveyor/jobs';
import { boundChildren, waitAtMost, type Logger, type SpanExporter } from '@conveyor/platform';
import { ServiceCore } from '@conveyor/runtime';
import { publishOutgoing } from '@conveyor/broker';
import { openBlobStore, storeSettingsFrom, validateLocalPath } from '@conveyor/storage';
import { WebhookDeliveryStore, WebhookSecretStore } from '@conveyor/webhooks';
import { findClientByKey } from './auth/api-client.repository.js';
import { listenForRevocations } from './auth/api-key-revocations.js';
import { DurablePublisher } from './callback/durable-publisher.js';
import type { ProducerConfig } from './config.js';
import { RegisteredKinds } from './jobs/registered-kinds.js';
import { ApiKeyCache } from './auth/api-key-cache.js';
import { authenticate, requestScopeOf } from './auth/auth.js';
import { clientsRouter } from './auth/clients.routes.js';
import { authenticateCallback } from './callback/callback-auth.js';
import { callbackRouter } from './callback/callback.routes.js';
import { deliveriesRouter } from './jobs/deliveries.routes.js';
import { createHttpApp } from './http/http-app.js';
import { imagesRouter } from './images/images.routes.js';
import { jobsRouter } from './jobs/jobs.routes.js';
import { legacyFactorRouter } from './legacy/legacy-factor.routes.js';
import { legacyImageErrorBodies, legacyImagesRouter } from './legacy/legacy-images.routes.js';
import { legacyTasksRouter } from './legacy/legacy-tasks.routes.js';
import { apiRegistry } from './http/api-registry.js';
import { servedRoutes, type ServedRoute } from './http/served-routes.js';
import { openApiDocument, openApiRouter } from './http/openapi.js';
import { SourceAllowList } from './callback/source-allow-list.js';
import { idempotent } from './idempotency/idempotent.js';
import { IdempotencyStore } from './idempotency/idempotency.store.js';
import { clientLimits } from './limits/client-limits.js';
import { LiveStreams } from './operator/live/live-streams.js';
import { operatorRouter } from './operator/operator.router.js';
import { amqpFigures, managementFigures, vhostOf } from './operator/queue-figures.js';
import { dashboardBuildDir, uiRouter } from './ui/ui.routes.js';
import { schedulesRouter } from './schedules/schedules.routes.js';

const BROKER_START_GRACE_MS = 5_000;

/**
 * The producer: HTTP API in, durable messages out. Starts serving as soon as the database is
 * migrated; the broker connects in the background, and until it does callbacks go to the outbox.
 */
export class ProducerApp {
  private readonly core: ServiceCore;
  private readonly relay: OutboxRelay;
  private readonly dispatcher: JobDispatcher;
  private readonly app: express.Express;
  private readonly kindRegistry: JobKindRegistry;
  private readonly keys: ApiKeyCache;
  /** With auth on: revocations made elsewhere reach the key cache at once. */
  private readonly revocations: NotificationListener | undefined;
  private boundOpsPort: number | undefined;
  /** The operator API's Server-Sent Events streams, ended when the producer stops. */
  private readonly liveStreams: LiveStreams;
  /** The routes and schemas every route module declares: /openapi.json is generated from it. */
  private readonly api = apiRegistry();

  constructor(
    private readonly config: ProducerConfig,
    private readonly log: Logger,
    /** `spanExporter`: where a test collects the spans (tracing is on with one). */
    options: { spanExporter?: SpanExporter } = {},
  ) {
    this.core = new ServiceCore('producer', config, log, {
      kinds: ['object.check', 'job.factorize', 'job.csv-sum', 'job.image-resize'],
      spanExporter: options.spanExporter,
    });
    const { database, broker, metrics, names } = this.core;
    this.kindRegistry = new JobKindRegistry(database.db);
    this.liveStreams = new LiveStreams(log);
    // Job messages are sent right after their commit; the relay only picks up what that missed.
    this.relay = this.core.outboxRelay({
      pollMs: config.OUTBOX_POLL_MS,
      batchSize: 500,
      minAgeMs: 2_000,
    });
    this.dispatcher = new JobDispatcher(
      {
        db: database.db,
        names,
        publish: (message) => publishOutgoing(broker, message, { timeoutMs: 5_000, failFast: true }),
        log,
      },
      { leaseMs: config.DISPATCH_LEASE_MS, renewMs: config.DISPATCH_RENEW_MS },
    );
    const publisher = new DurablePublisher({
      broker,
      db: database.db,
      log,
      metrics,
      publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
    });
    this.keys = new ApiKeyCache((key) => findClientByKey(database.db, key));
    this.revocations = config.AUTH_ENABLED
      ? listenForRevocations({
          databaseUrl: config.DATABASE_URL,
          schema: config.DATABASE_SCHEMA,
          log,
          keys: this.keys,
        })
      : undefined;
    const callbackAuth = authenticateCallback({
      enabled: config.AUTH_ENABLED,
      keys: this.keys,
      sharedSecret: config.CALLBACK_SHARED_SECRET,
      secretHeader: config.CALLBACK_SECRET_HEADER,
      allowedSources: new SourceAllowList(config.CALLBACK_ALLOWED_SOURCES),
    });
    const idempotency = idempotent(
      new IdempotencyStore(database.db, {
        ttlMs: config.IDEMPOTENCY_KEY_TTL_MS,
        abandonAfterMs: config.IDEMPOTENCY_ABANDON_MS,
      }),
      requestScopeOf,
    );
    const limits = clientLimits(config, database.db, log, requestScopeOf);
    this.app = createHttpApp({
      log,
      metrics,
      tracing: this.core.tracing,
      corsOrigins: config.CORS_ALLOWED_ORIGINS,
      bodyLimitBytes: config.BODY_LIMIT_BYTES,
      readiness: this.core.readiness(),
      routers: [
        openApiRouter(async () =>
          openApiDocument(this.api, await this.kindRegistry.list(), config.PUBLIC_BASE_URL),
        ),
        callbackRouter(
          {
            publisher,
            names,
            maxIds: config.CALLBACK_MAX_IDS,
            authenticate: callbackAuth,
            admit: limits.callbacks,
            idempotent: idempotency,
          },
          this.api,
        ),
        this.jobRouters(idempotency, limits.submits),
        uiRouter({ dir: config.UI_DIR ?? dashboardBuildDir(), log }),
      ],
    });
  }

  private jobRouters(
    idempotency: express.RequestHandler,
    admitSubmit: express.RequestHandler | undefined,
  ): express.Router {
    const { config } = this;
    const { db } = this.core.database;
    const store = new JobStore(db, this.core.names, {
      ...jobStoreOptionsFrom(config),
      dispatcher: this.dispatcher,
    });
    const submitted = boundChildren((kind) => this.core.metrics.jobs.submitted.labels({ kind }));
    const deps = {
      store,
      limits: {
        factorizeMaxDigits: config.FACTORIZE_MAX_DIGITS,
        checkLocalPath: async (path: string) => void (await validateLocalPath(config.STORAGE_ROOT, path)),
      },
      kinds: new RegisteredKinds(this.kindRegistry),
      sendNow: (messages: Parameters<OutboxRelay['sendNow']>[0]) => this.relay.sendNow(messages),
      idempotent: idempotency,
      maxDelayMs: config.JOB_MAX_DELAY_MS,
      countSubmitted: (kind: string) => submitted(kind).inc(),
      afterCommit:
        config.FAULT_INJECTION === 'crash-after-commit'
          ? () => process.kill(process.pid, 'SIGKILL')
          : undefined,
    };
    const imageDeps = {
      ...deps,
      images: openBlobStore(config.IMAGE_STORE, storeSettingsFrom(config)),
      bucket: config.IMAGE_BUCKET,
      limits: {
        ...deps.limits,
        image: {
          ...DEFAULT_IMAGE_LIMITS,
          maxDimension: config.IMAGE_MAX_DIMENSION,
          maxInputBytes: config.IMAGE_MAX_UPLOAD_BYTES,
        },
        maxUploadBytes: config.IMAGE_MAX_UPLOAD_BYTES,
      },
    };
    const amqpQueueFigures = amqpFigures(this.core.broker);
    const router = express.Router();
    router.use(legacyImageErrorBodies);
    router.use(
      ['/v1', '/factor', '/get', '/tasks', '/api/v1'],
      authenticate({ enabled: config.AUTH_ENABLED, keys: this.keys }),
    );
    // Every way to submit, before its body is read further (an upload is refused before it is stored).
    if (admitSubmit)
      router.post(['/v1/jobs', '/v1/images', '/factor', '/tasks', '/api/v1/images/resize'], admitSubmit);
    router.use(
      jobsRouter(deps, this.api),
      legacyFactorRouter(deps, this.api),
      legacyTasksRouter(deps, this.api),
      imagesRouter(imageDeps, this.api),
      legacyImagesRouter(imageDeps, this.api),
      schedulesRouter({ schedules: new ScheduleStore(db), limits: deps.limits, kinds: deps.kinds }, this.api),
      deliveriesRouter(
        {
          jobs: store,
          deliveries: new WebhookDeliveryStore(db),
          secrets: new WebhookSecretStore(db, config.WEBHOOK_SECRET),
          publicBaseUrl: config.PUBLIC_BASE_URL,
          secretOverlapMs: config.WEBHOOK_SECRET_OVERLAP_MS,
        },
        this.api,
      ),
      clientsRouter({ db }, this.api),
      operatorRouter(
        {
          db,
          store,
          names: this.core.names,
          kinds: this.kindRegistry,
          sendNow: deps.sendNow,
          streams: this.liveStreams,
          figures: config.RABBITMQ_MANAGEMENT_URL
            ? managementFigures(config.RABBITMQ_MANAGEMENT_URL, vhostOf(config.AMQP_URL))
            : amqpQueueFigures,
          fallbackFigures: amqpQueueFigures,
          retryDelaysMs: config.RETRY_DELAYS_MS,
          workerAliveWindowMs: config.WORKER_ALIVE_WINDOW_MS,
        },
        this.api,
      ),
    );
    return router;
  }

  /** Server-Sent Events streams open now (the operator API's live routes). */
  get openLiveStreams(): number {
    return this.liveStreams.size;
  }

  /** Every route the API port serves (the contract test holds them against /openapi.json). */
  servedRoutes(): ServedRoute[] {
    return servedRoutes(this.app.router);
  }

  /** The API's port (served first). */
  get port(): number {
    return this.core.port;
  }

  /** The port of /healthz, /readyz and /metrics. */
  get opsPort(): number {
    if (this.boundOpsPort === undefined) throw new Error('not listening');
    return this.boundOpsPort;
  }

  async start(): Promise<void> {
    await this.core.migrate();
    // Serve even while the broker is down (the outbox takes the work), but give a healthy
    // broker the moment it needs to connect so the first callbacks go straight to it.
    await waitAtMost(this.core.broker.start(), BROKER_START_GRACE_MS);
    this.relay.start();
    await this.dispatcher.start();
    this.revocations?.start();
    await this.core.serve(this.config.PORT, this.app);
    this.boundOpsPort = await this.core.serve(this.config.OPS_PORT);
    this.log.info('producer listening', { port: this.port, opsPort: this.opsPort });
  }

  async stop(): Promise<void> {
    // Open streams never end by themselves: end them first, or the server's close waits on them.
    this.liveStreams.closeAll();
    await this.core.stopServing();
    await this.dispatcher.stop();
    await this.relay.stop();
    await this.revocations?.stop();
    await this.core.close();
  }
}
