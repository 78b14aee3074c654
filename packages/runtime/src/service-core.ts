import type { Server } from 'node:http';
import { Broker, publishOutgoing, workTopology } from '@conveyor/broker';
import { topologyNames, type MessageKind, type TopologyNames } from '@conveyor/contracts';
import {
  createDatabase,
  migrateToLatest,
  OutboxRelay,
  type DatabaseHandle,
  type OutboxRelayOptions,
} from '@conveyor/database';
import {
  boundPort,
  closeServer,
  createMetrics,
  httpLimitsFrom,
  listen,
  opsApp,
  retryUntilSuccess,
  type HttpLimitsConfig,
  type Logger,
  type Metrics,
  type ReadinessCheck,
  Tracing,
  type SpanExporter,
  type TracingConfig,
} from '@conveyor/platform';
import type express from 'express';

/**
 * The variables every service shares (commonEnvShape in @conveyor/platform), and the HTTP limits
 * of httpServerEnvShape where the service's schema has them (the defaults where not).
 */
export interface CoreConfig extends HttpLimitsConfig, TracingConfig {
  DATABASE_URL: string;
  DATABASE_SCHEMA: string;
  DATABASE_POOL_MAX: number;
  AMQP_URL: string;
  AMQP_PREFIX: string;
  PUBLISH_CHANNELS: number;
  RETRY_DELAYS_MS: number[];
  DELIVERY_LIMIT: number;
  QUORUM_INITIAL_GROUP_SIZE: number;
}

/**
 * What every service is built on: its metrics, its database (migrated at start, retrying while
 * PostgreSQL boots), its broker connection when it uses one (the topology of the message kinds it
 * touches), and an HTTP server whose readiness covers them. Services add their own parts on top.
 */
export class ServiceCore {
  readonly metrics: Metrics;
  /** Off unless the OTEL_* variables ask for an exporter (or a test gives one). */
  readonly tracing: Tracing;
  readonly database: DatabaseHandle;
  readonly names: TopologyNames;
  private readonly maybeBroker: Broker | undefined;
  private readonly servers: Server[] = [];

  constructor(
    service: string,
    private readonly config: CoreConfig,
    readonly log: Logger,
    /** `extraRetryDelaysMs`: tiers beyond RETRY_DELAYS_MS that hosted job kinds' backoff needs. */
    options: {
      kinds?: readonly MessageKind[];
      extraRetryDelaysMs?: readonly number[];
      spanExporter?: SpanExporter | undefined;
    } = {},
  ) {
    this.metrics = createMetrics(service);
    this.tracing = Tracing.fromConfig(service, config, options.spanExporter);
    this.names = topologyNames(config.AMQP_PREFIX);
    this.database = createDatabase({
      url: config.DATABASE_URL,
      schema: config.DATABASE_SCHEMA,
      poolMax: config.DATABASE_POOL_MAX,
      log,
    });
    this.maybeBroker = options.kinds
      ? new Broker({
          url: config.AMQP_URL,
          connectionName: `conveyor-${service}`,
          log,
          metrics: this.metrics,
          publishChannels: config.PUBLISH_CHANNELS,
          topology: workTopology(this.names, {
            kinds: options.kinds,
            retryDelaysMs: [...new Set([...config.RETRY_DELAYS_MS, ...(options.extraRetryDelaysMs ?? [])])],
            deliveryLimit: config.DELIVERY_LIMIT,
            initialGroupSize: config.QUORUM_INITIAL_GROUP_SIZE,
          }),
        })
      : undefined;
  }

  get broker(): Broker {
    if (!this.maybeBroker) throw new Error('this service was built without a broker connection');
    return this.maybeBroker;
  }

  /** The port of the first server `serve` started. */
  get port(): number {
    const [first] = this.servers;
    if (!first) throw new Error('not listening');
    return boundPort(first);
  }

  /** An outbox relay publishing through this service's broker (confirm deadline 5 s per batch). */
  outboxRelay(options: OutboxRelayOptions): OutboxRelay {
    const broker = this.broker;
    return new OutboxRelay(
      {
        db: this.database.db,
        publish: (message) => publishOutgoing(broker, message, { timeoutMs: 5_000 }),
        isReady: () => broker.connected,
        log: this.log,
      },
      options,
    );
  }

  /** Ready means every dependency this service has answers. */
  readiness(): ReadinessCheck[] {
    const checks: ReadinessCheck[] = [{ name: 'database', check: () => this.database.ping() }];
    const broker = this.maybeBroker;
    if (broker) checks.push({ name: 'broker', check: () => broker.connected });
    return checks;
  }

  async migrate(): Promise<void> {
    await retryUntilSuccess(
      'database migration',
      () => migrateToLatest(this.database.db, this.config.DATABASE_SCHEMA, this.log),
      { log: this.log },
    );
  }

  /**
   * Serves `app`, or only /healthz, /readyz and /metrics when there is no app, within the
   * configured HTTP limits; resolves with the bound port. A service may serve several ports.
   */
  async serve(port: number, app: express.Express = opsApp(this.metrics, this.readiness())): Promise<number> {
    const limits = httpLimitsFrom(this.config);
    const server = await listen(app, port, limits);
    this.servers.push(server);
    warnWhenFull(server, limits.maxConnections, this.log);
    return boundPort(server);
  }

  /** Stops serving: no new requests, and those under way have been answered. */
  async stopServing(): Promise<void> {
    await Promise.all(this.servers.splice(0).map((server) => closeServer(server)));
  }

  /** Stops serving, disconnects from the broker (waiting for confirms), closes the database. */
  async close(): Promise<void> {
    await this.stopServing();
    await this.maybeBroker?.close();
    await this.database.close();
    await this.tracing.shutdown();
  }
}

/**
 * A connection over the cap is closed without a word to its client, so the operator hears of it
 * here: at most one warning every 10 s, counting the refusals since the last (a flood of
 * connections must not become a flood of log lines).
 */
function warnWhenFull(server: Server, maxConnections: number, log: Logger): void {
  let refused = 0;
  let warnedAt = -Infinity;
  server.on('drop', () => {
    refused += 1;
    if (Date.now() - warnedAt < 10_000) return;
    warnedAt = Date.now();
    log.warn('connections refused: too many open', { port: boundPort(server), maxConnections, refused });
    refused = 0;
  });
}
