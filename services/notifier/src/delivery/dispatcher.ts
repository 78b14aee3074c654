import { Batcher, errorMessage, sleep, type Logger, type Tracing } from '@conveyor/platform';
import {
  webhookHeaders,
  type AddressPolicy,
  type AttemptOutcome,
  type AttemptRecord,
  type AttemptReport,
  type LeasedWebhookDelivery,
  type RecordedEvents,
  type WebhookDeliveryStore,
  type WebhookSecretStore,
} from '@conveyor/webhooks';
import { postWebhook, WebhookRequestError } from './safe-http-client.js';
import type { CircuitBreakers } from '../endpoint-health/circuit-breaker.js';
import { classifyResponse, isEndpointFailure, type DeliveryOutcome } from './delivery-outcome.js';
import type { EndpointLimiter } from '../endpoint-health/endpoint-limiter.js';
import { nextAttemptDelay, parseRetryAfter } from './retry-schedule.js';

export interface DispatcherDeps {
  deliveries: WebhookDeliveryStore;
  secrets: WebhookSecretStore;
  policy: AddressPolicy;
  breakers: CircuitBreakers;
  limiter: EndpointLimiter;
  log: Logger;
  onAttempt?: (outcome: DeliveryOutcome['kind'], latencyMs: number) => void;
  /**
   * With tracing on: each attempt is a client span in the trace of the request that created the
   * job (its row keeps the traceparent), and the webhook carries the span's `traceparent`.
   */
  tracing?: { tracing: Tracing; traceParentOf: (jobId: string) => Promise<string | null> } | undefined;
}

export interface DispatcherOptions {
  concurrency: number;
  timeoutMs: number;
  retryScheduleMs: readonly number[];
  pollMs: number;
  /**
   * Attempts logged together in one statement, and how long the first waits for company (ms).
   * Default 200 and 10 ms, one batch at a time: the webhook has gone out already, only the slot
   * (and the next status of the same job) waits for the log.
   */
  attemptBatch?: { maxItems: number; maxWaitMs: number };
}

const RESPONSE_SNIPPET_BYTES = 1024;
/** An endpoint at its in-flight cap is tried again this soon. */
const BUSY_ENDPOINT_DELAY_MS = 100;
const MAX_WAITING_JOBS = 10_000;
/** While deliveries wait for a free slot, claims are this far apart at most (ms) unless a quarter of the slots is free. */
const BACKLOG_CLAIM_GAP_MS = 5;
/** A queued delivery starts at least this long, plus the attempt timeout, before its lease ends (ms). */
const LEASE_MARGIN_MS = 1_000;

/**
 * Sends deliveries, up to `concurrency` at once: those the event recorder hands over already
 * leased, and due ones it claims (retries, and rows recorded while it was full or behind an older
 * delivery of their job). The lease outlives the request deadline, so a delivery is never sent
 * twice concurrently; if this process dies the lease expires and another notifier (or this one
 * restarted) sends it again with the same webhook-id. Slow endpoints are capped per origin and
 * tripped by a circuit breaker, so they never hold up healthy ones.
 */
export class Dispatcher {
  private inFlight = 0;
  /** Slots promised to the event recorder for deliveries it is recording leased. */
  private reserved = 0;
  /**
   * Leased deliveries (handed over or claimed) waiting for a slot, oldest first, each with the time by
   * which it must have started (its lease must outlast the attempt). At most `concurrency` of them,
   * so none waits longer than one attempt timeout: a burst waits here rather than as pending rows
   * that each need a claim.
   */
  private readonly queued: { delivery: LeasedWebhookDelivery; startBy: number }[] = [];
  /** Pending rows may be claimable now: recorded without a lease, or the last claim came back full. */
  private backlog = false;
  /** Jobs with a delivery recorded pending behind an older one: the end of that one wakes a claim. */
  private readonly waitingJobs = new Set<string>();
  private wakeUp: (() => void) | undefined;
  private soon: NodeJS.Timeout | undefined;
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;
  private readonly attempts: Batcher<AttemptReport, void>;
  /** How long a claim or a leased recording holds a delivery. */
  readonly leaseMs: number;

  constructor(
    private readonly deps: DispatcherDeps,
    private readonly options: DispatcherOptions,
  ) {
    // Longer than any attempt can take, so a live sender never loses its claim.
    this.leaseMs = options.timeoutMs * 2 + 1_000;
    this.attempts = new Batcher<AttemptReport, void>(
      async (reports) => {
        await deps.deliveries.recordAttempts(reports);
        return reports.map(() => undefined);
      },
      options.attemptBatch ?? { maxItems: 200, maxWaitMs: 10, maxInFlight: 1 },
    );
  }

  start(): void {
    this.running ??= this.run();
  }

  /** New work was recorded: look now instead of at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Slots neither in use nor promised nor owed to queued deliveries. */
  private freeSlots(): number {
    return this.options.concurrency - this.inFlight - this.reserved - this.queued.length;
  }

  /** Free slots plus free places in the queue. */
  private places(): number {
    return this.freeSlots() + this.options.concurrency;
  }

  /** Sends leased deliveries now, or queues them (in order) behind those already waiting. */
  private take(deliveries: readonly LeasedWebhookDelivery[], leasedSince: number): void {
    const startBy = leasedSince + this.leaseMs - this.options.timeoutMs - LEASE_MARGIN_MS;
    for (const delivery of deliveries) {
      if (this.inFlight < this.options.concurrency && this.queued.length === 0) void this.deliver(delivery);
      else this.queued.push({ delivery, startBy });
    }
  }

  private wakeSoon(): void {
    const free = this.freeSlots();
    if (free * 4 >= this.options.concurrency) return this.wake();
    this.soon ??= setTimeout(() => {
      this.soon = undefined;
      this.wake();
    }, BACKLOG_CLAIM_GAP_MS);
  }

  /**
   * Up to `wanted` places (a free slot, or one in the queue), held for deliveries about to be
   * recorded leased; give them back with handOver.
   */
  reserve(wanted: number): number {
    // New events may overtake rows waiting for a claim: making them wait behind those rows too
    // sends everything through claims, which cost more per row the longer the backlog (tried:
    // under CPU contention the backlog then grew to thousands of rows and seconds of delay).
    if (this.stopController.signal.aborted) return 0;
    const granted = Math.max(0, Math.min(wanted, this.places()));
    this.reserved += granted;
    // The rest will be recorded pending: they wait for a claim.
    if (granted < wanted) this.backlog = true;
    return granted;
  }

  /**
   * Takes what a recording under `reserved` places produced (nothing if it failed): the leased
   * deliveries are sent now or queued for the next free slot, unused places freed, and pending
   * ones looked for. `leasedSince`: when the recording started (its leases began after).
   */
  handOver(reserved: number, recorded: RecordedEvents | undefined, leasedSince: number): void {
    this.reserved -= reserved;
    this.take(recorded?.leased ?? [], leasedSince);
    const waiting = recorded?.waitingJobIds ?? [];
    if (waiting.length === 0) return;
    // Bounded: past this the poll alone finds what they were waiting for.
    if (this.waitingJobs.size + waiting.length > MAX_WAITING_JOBS) this.waitingJobs.clear();
    for (const jobId of waiting) this.waitingJobs.add(jobId);
    this.backlog = true;
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.wake();
    await this.running;
    while (this.inFlight > 0) await sleep(20);
    clearTimeout(this.soon);
  }

  private async run(): Promise<void> {
    const { signal } = this.stopController;
    while (!signal.aborted) {
      const woken = new Promise<void>((resolve) => (this.wakeUp = resolve));
      try {
        // Claims may fill the queue too: rows waiting for a claim get places as new events do,
        // the oldest first, instead of only the slots new events leave over.
        const limit = this.places();
        const claimedAt = Date.now();
        const claimed = await this.deps.deliveries.claimDue(limit, this.leaseMs);
        this.take(claimed, claimedAt);
        // Fewer than asked: everything claimable was claimed. A full batch: more may be due now.
        if (claimed.length < limit) this.backlog = false;
        else if (claimed.length > 0 && this.places() > 0) continue;
      } catch (error) {
        this.deps.log.warn('claiming deliveries failed', { error: errorMessage(error) });
      }
      await Promise.race([woken, sleep(this.options.pollMs, signal)]);
    }
  }

  private async deliver(delivery: LeasedWebhookDelivery, startBy = Infinity): Promise<void> {
    this.inFlight += 1;
    try {
      // Handed over while stopping, or queued so long that the lease could end mid-attempt: give
      // the lease back (no attempt spent) for a claim to take it up again.
      if (this.stopController.signal.aborted || Date.now() > startBy)
        await this.record(delivery, undefined, deferred(0));
      else await this.attempt(delivery);
    } catch (error) {
      // Recording failed (database away): the lease expires and the delivery is retried then.
      this.deps.log.warn('delivery bookkeeping failed', {
        deliveryId: delivery.id,
        error: errorMessage(error),
      });
    } finally {
      this.inFlight -= 1;
      const next = this.queued.shift();
      if (next) void this.deliver(next.delivery, next.startBy);
      // The end of a job's delivery may free its next one: look now. A freed slot matters when
      // rows wait; slots are gathered for a moment so one claim fills several.
      if (this.waitingJobs.delete(delivery.jobId)) this.wake();
      else if (this.backlog) this.wakeSoon();
    }
  }

  /** 410 settles the whole URL in a transaction of its own; every other outcome is logged in batches. */
  private record(
    delivery: LeasedWebhookDelivery,
    attempt: AttemptRecord | undefined,
    outcome: AttemptOutcome,
  ): Promise<void> {
    if (outcome.type === 'gone') return this.deps.deliveries.recordAttempt(delivery, attempt, outcome);
    return this.attempts.add({ delivery, attempt, outcome });
  }

  private async attempt(delivery: LeasedWebhookDelivery): Promise<void> {
    const { breakers, limiter } = this.deps;
    const origin = new URL(delivery.url).origin;
    const admission = breakers.tryPass(origin);
    if (!admission.allowed) return this.record(delivery, undefined, deferred(admission.retryInMs));
    const release = limiter.tryAcquire(origin);
    if (!release) return this.record(delivery, undefined, deferred(BUSY_ENDPOINT_DELAY_MS));
    try {
      const { record, outcome } = await this.send(delivery);
      if (isEndpointFailure(outcome)) breakers.recordFailure(origin);
      else breakers.recordSuccess(origin);
      await this.record(delivery, record, this.next(outcome, record.attempt));
      this.deps.onAttempt?.(outcome.kind, record.latencyMs);
      // winston formats a line (redaction, timestamp, JSON) before its transports drop it by level:
      // at a thousand attempts a second that is measurable, so only build it when it is written.
      if (this.deps.log.isInfoEnabled())
        this.deps.log.info('webhook attempt', {
          deliveryId: delivery.id,
          jobId: delivery.jobId,
          sequence: delivery.sequence,
          attempt: record.attempt,
          outcome: outcome.kind,
          statusCode: record.statusCode,
          latencyMs: record.latencyMs,
        });
    } finally {
      release();
    }
  }

  private async send(
    delivery: LeasedWebhookDelivery,
  ): Promise<{ record: AttemptRecord; outcome: DeliveryOutcome }> {
    const traced = this.deps.tracing;
    if (!traced) return this.sendUntraced(delivery, {});
    const span = traced.tracing.startSpan('POST webhook', {
      kind: 'client',
      parent: await traced.traceParentOf(delivery.jobId),
      attributes: {
        'http.request.method': 'POST',
        'server.address': new URL(delivery.url).hostname,
        'conveyor.job.id': delivery.jobId,
        'conveyor.webhook.delivery_id': delivery.id,
        'conveyor.webhook.sequence': delivery.sequence,
        'conveyor.webhook.attempt': delivery.attempts + 1,
      },
    });
    if (!span) return this.sendUntraced(delivery, {});
    try {
      const sent = await this.sendUntraced(delivery, { traceparent: span.traceparent });
      if (sent.record.statusCode !== null)
        span.setAttributes({ 'http.response.status_code': sent.record.statusCode });
      span.end(sent.outcome.kind === 'delivered' ? undefined : (sent.record.error ?? sent.outcome.kind));
      return sent;
    } catch (error) {
      span.end(errorMessage(error));
      throw error;
    }
  }

  private async sendUntraced(
    delivery: LeasedWebhookDelivery,
    traceHeaders: { traceparent?: string },
  ): Promise<{ record: AttemptRecord; outcome: DeliveryOutcome }> {
    const startedAt = new Date();
    const attempt = delivery.attempts + 1;
    // Signed afresh on every attempt (new timestamp), always with the same webhook-id.
    const secrets = await this.deps.secrets.secretsFor(delivery.clientId, delivery.secretsVersion);
    const headers = {
      ...webhookHeaders({
        id: delivery.id,
        timestamp: Math.floor(startedAt.getTime() / 1000),
        body: delivery.payload,
        secrets,
      }),
      'user-agent': 'Conveyor-Webhooks/1.0',
      ...traceHeaders,
    };
    try {
      const response = await postWebhook({
        url: delivery.url,
        headers,
        body: delivery.payload,
        timeoutMs: this.options.timeoutMs,
        maxResponseBytes: RESPONSE_SNIPPET_BYTES,
        policy: this.deps.policy,
        signal: this.stopController.signal,
      });
      const retryAfterMs = parseRetryAfter(response.headers['retry-after'], new Date());
      return {
        record: {
          attempt,
          startedAt,
          statusCode: response.status,
          latencyMs: response.durationMs,
          responseSnippet: response.bodySnippet,
          error: null,
        },
        outcome: classifyResponse({ status: response.status, durationMs: response.durationMs, retryAfterMs }),
      };
    } catch (error) {
      if (!(error instanceof WebhookRequestError)) throw error;
      return {
        record: {
          attempt,
          startedAt,
          statusCode: null,
          latencyMs: error.durationMs,
          responseSnippet: null,
          error: `${error.code}: ${error.message}`,
        },
        outcome: classifyResponse({
          error: { code: error.code, message: error.message },
          durationMs: error.durationMs,
        }),
      };
    }
  }

  private next(outcome: DeliveryOutcome, attemptsMade: number): AttemptOutcome {
    switch (outcome.kind) {
      case 'delivered':
        return { type: 'delivered' };
      case 'gone':
        return { type: 'gone' };
      case 'refused':
        return { type: 'failed' };
      case 'retry': {
        const delayMs = nextAttemptDelay(attemptsMade, {
          retryAfterMs: outcome.retryAfterMs,
          schedule: this.options.retryScheduleMs,
        });
        return delayMs === null
          ? { type: 'failed' }
          : { type: 'retry', nextAttemptAt: new Date(Date.now() + delayMs) };
      }
      default: {
        const unknownOutcome: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(unknownOutcome)}`);
      }
    }
  }
}

function deferred(delayMs: number): AttemptOutcome {
  return { type: 'deferred', nextAttemptAt: new Date(Date.now() + delayMs) };
}
