import { startMessageConsumer, type ConsumerHandle } from '@conveyor/broker';
import type { Logger, SpanExporter } from '@conveyor/platform';
import { ServiceCore } from '@conveyor/runtime';
import { AddressPolicy, WebhookDeliveryStore, WebhookSecretStore } from '@conveyor/webhooks';
import client from 'prom-client';
import type { NotifierConfig } from './config.js';
import { jobEventHandler } from './events/job-event.consumer.js';
import { CircuitBreakers } from './endpoint-health/circuit-breaker.js';
import { EndpointLimiter } from './endpoint-health/endpoint-limiter.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { jobTraceParent } from './delivery/job-trace-parent.js';
import { EventRecorder } from './events/event-recorder.js';

/**
 * Job events recorded in one statement at most. One batch is written at a time: events that come
 * meanwhile make the next batch (group commit), so the busier the notifier the fewer statements per
 * event. The prefetch lets one batch fill while another commits.
 */
const EVENT_BATCH_MAX = 100;
/** Longest wait of an event's ack behind an earlier one still being recorded (rare: batches commit in order). */
const EVENT_ACK_HOLD_MS = 1_000;
/** How long the first event of a batch waits for others, in ms: short, since its webhook waits too. */
const EVENT_BATCH_WAIT_MS = 2;

/**
 * The callback-notifier: job events in (acked once their delivery rows are committed), signed
 * webhook pushes out, retried on a day-long schedule from the deliveries table.
 */
export class NotifierApp {
  private readonly core: ServiceCore;
  private readonly dispatcher: Dispatcher;
  private readonly deliveries: WebhookDeliveryStore;
  private readonly recorder: EventRecorder;
  private consumer: ConsumerHandle | undefined;

  constructor(
    private readonly config: NotifierConfig,
    private readonly log: Logger,
    /** `spanExporter`: where a test collects the spans (tracing is on with one). */
    options: { spanExporter?: SpanExporter } = {},
  ) {
    this.core = new ServiceCore('notifier', config, log, {
      kinds: ['job.event'],
      spanExporter: options.spanExporter,
    });
    const { tracing } = this.core;
    const { registry } = this.core.metrics;
    const db = this.core.database.db;
    this.deliveries = new WebhookDeliveryStore(db);
    const attempts = new client.Counter({
      name: 'conveyor_webhook_attempts_total',
      help: 'Webhook delivery attempts by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    });
    const latency = new client.Histogram({
      name: 'conveyor_webhook_attempt_seconds',
      help: 'Duration of webhook attempts',
      buckets: [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15],
      registers: [registry],
    });
    this.dispatcher = new Dispatcher(
      {
        deliveries: this.deliveries,
        secrets: new WebhookSecretStore(db, config.WEBHOOK_SECRET),
        policy: new AddressPolicy({
          allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK,
          allowPrivate: config.WEBHOOK_ALLOW_PRIVATE,
          allowList: config.WEBHOOK_ALLOW_LIST,
        }),
        breakers: new CircuitBreakers({
          failureThreshold: config.WEBHOOK_CIRCUIT_THRESHOLD,
          coolDownMs: config.WEBHOOK_CIRCUIT_COOLDOWN_MS,
          now: Date.now,
        }),
        limiter: new EndpointLimiter(config.WEBHOOK_MAX_PER_ENDPOINT),
        log,
        onAttempt: (outcome, latencyMs) => {
          attempts.inc({ outcome });
          latency.observe(latencyMs / 1000);
        },
        tracing: tracing.enabled
          ? { tracing, traceParentOf: (jobId) => jobTraceParent(db, jobId) }
          : undefined,
      },
      {
        concurrency: config.NOTIFIER_CONCURRENCY,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        retryScheduleMs: config.WEBHOOK_RETRY_SCHEDULE_MS,
        pollMs: config.DISPATCH_POLL_MS,
      },
    );
    this.recorder = new EventRecorder(this.deliveries, this.dispatcher, {
      maxItems: EVENT_BATCH_MAX,
      maxWaitMs: EVENT_BATCH_WAIT_MS,
      maxInFlight: 1,
    });
  }

  get opsPort(): number {
    return this.core.port;
  }

  async start(): Promise<void> {
    const { config, log, core } = this;
    await core.migrate();
    const { names } = core;
    this.consumer = startMessageConsumer(
      { broker: core.broker, names, log, metrics: core.metrics },
      {
        kind: 'job.event',
        queue: names.jobEventsQueue,
        prefetch: EVENT_BATCH_MAX * 2,
        // A batch's events are acked together once it commits, in delivery order: held for a few
        // ms they go as one multiple ack instead of one quorum-queue command per event.
        ackHoldMs: EVENT_ACK_HOLD_MS,
        retryDelaysMs: config.RETRY_DELAYS_MS,
        maxAttempts: config.MAX_ATTEMPTS,
      },
      jobEventHandler({ recorder: this.recorder, publicBaseUrl: config.PUBLIC_BASE_URL }),
    );
    this.dispatcher.start();
    await core.serve(config.OPS_PORT);
    await core.broker.start();
    log.info('notifier started', { opsPort: this.opsPort });
  }

  async stop(): Promise<void> {
    await this.consumer?.cancel();
    await this.dispatcher.stop();
    await this.core.close();
  }
}
