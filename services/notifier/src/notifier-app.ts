import type { Server } from 'node:http';
import { Broker, startMessageConsumer, workTopology, type ConsumerHandle } from '@conveyor/broker';
import { topologyNames } from '@conveyor/contracts';
import { createDatabase, migrateToLatest, type DatabaseHandle } from '@conveyor/database';
import { DeliveryStore, WebhookSecretStore } from '@conveyor/jobs';
import { boundPort, closeServer, createMetrics, listen, opsApp, retryUntilSuccess, type Logger, type Metrics } from '@conveyor/platform';
import client from 'prom-client';
import type { NotifierConfig } from './config.js';
import { jobEventHandler } from './consumers/job-event.consumer.js';
import { AddressPolicy } from './domain/address-policy.js';
import { CircuitBreakers } from './domain/circuit-breaker.js';
import { EndpointLimiter } from './domain/endpoint-limiter.js';
import { Dispatcher } from './routines/dispatcher.js';

/**
 * The callback-notifier: job events in (acked once their delivery rows are committed), signed
 * webhook pushes out, retried on a day-long schedule from the deliveries table.
 */
export class NotifierApp {
  private readonly metrics: Metrics;
  private readonly database: DatabaseHandle;
  private readonly broker: Broker;
  private readonly dispatcher: Dispatcher;
  private readonly deliveries: DeliveryStore;
  private consumer: ConsumerHandle | undefined;
  private server: Server | undefined;

  constructor(
    private readonly config: NotifierConfig,
    private readonly log: Logger,
  ) {
    this.metrics = createMetrics('notifier');
    this.database = createDatabase({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA, poolMax: config.DATABASE_POOL_MAX, log });
    this.broker = new Broker({
      url: config.AMQP_URL,
      connectionName: 'conveyor-notifier',
      log,
      metrics: this.metrics,
      topology: workTopology(topologyNames(config.AMQP_PREFIX), { kinds: ['job.event'], retryDelaysMs: config.RETRY_DELAYS_MS, deliveryLimit: config.DELIVERY_LIMIT }),
    });
    this.deliveries = new DeliveryStore(this.database.db);
    const attempts = new client.Counter({ name: 'conveyor_webhook_attempts_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'], registers: [this.metrics.registry] });
    const latency = new client.Histogram({
      name: 'conveyor_webhook_attempt_seconds',
      help: 'Duration of webhook attempts',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15],
      registers: [this.metrics.registry],
    });
    this.dispatcher = new Dispatcher(
      {
        deliveries: this.deliveries,
        secrets: new WebhookSecretStore(this.database.db, config.WEBHOOK_SECRET),
        policy: new AddressPolicy({ allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK, allowPrivate: config.WEBHOOK_ALLOW_PRIVATE, allowList: config.WEBHOOK_ALLOW_LIST }),
        breakers: new CircuitBreakers({ failureThreshold: config.WEBHOOK_CIRCUIT_THRESHOLD, coolDownMs: config.WEBHOOK_CIRCUIT_COOLDOWN_MS, now: Date.now }),
        limiter: new EndpointLimiter(config.WEBHOOK_MAX_PER_ENDPOINT),
        log,
        onAttempt: (outcome, latencyMs) => {
          attempts.inc({ outcome });
          latency.observe(latencyMs / 1000);
        },
      },
      { concurrency: config.NOTIFIER_CONCURRENCY, timeoutMs: config.WEBHOOK_TIMEOUT_MS, retryScheduleMs: config.WEBHOOK_RETRY_SCHEDULE_MS, pollMs: config.DISPATCH_POLL_MS },
    );
  }

  get opsPort(): number {
    if (!this.server) throw new Error('notifier is not listening');
    return boundPort(this.server);
  }

  async start(): Promise<void> {
    const { config, log } = this;
    await retryUntilSuccess('database migration', () => migrateToLatest(this.database.db, config.DATABASE_SCHEMA, log), { log });
    const names = topologyNames(config.AMQP_PREFIX);
    this.consumer = startMessageConsumer(
      { broker: this.broker, names, log, metrics: this.metrics },
      { kind: 'job.event', queue: names.jobEventsQueue, prefetch: 200, retryDelaysMs: config.RETRY_DELAYS_MS, maxAttempts: config.MAX_ATTEMPTS },
      jobEventHandler({ store: this.deliveries, publicBaseUrl: config.PUBLIC_BASE_URL, onRecorded: () => this.dispatcher.wake() }),
    );
    this.dispatcher.start();
    this.server = await listen(
      opsApp(this.metrics, [
        { name: 'database', check: () => this.database.ping() },
        { name: 'broker', check: () => this.broker.connected },
      ]),
      config.OPS_PORT,
    );
    await this.broker.start();
    log.info('notifier started', { opsPort: this.opsPort });
  }

  async stop(): Promise<void> {
    await this.consumer?.cancel();
    await this.dispatcher.stop();
    await this.broker.close();
    if (this.server) await closeServer(this.server);
    await this.database.close();
    this.metrics.stop();
  }
}
