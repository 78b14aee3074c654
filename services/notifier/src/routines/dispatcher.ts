import { webhookHeaders, type AttemptOutcome, type AttemptRecord, type Delivery, type DeliveryStore, type WebhookSecretStore } from '@conveyor/jobs';
import { errorMessage, sleep, type Logger } from '@conveyor/platform';
import { postWebhook, WebhookRequestError } from '../adapters/safe-http-client.js';
import type { AddressPolicy } from '../domain/address-policy.js';
import type { CircuitBreakers } from '../domain/circuit-breaker.js';
import { classifyResponse, isEndpointFailure, type DeliveryOutcome } from '../domain/delivery-outcome.js';
import type { EndpointLimiter } from '../domain/endpoint-limiter.js';
import { nextAttemptDelay, parseRetryAfter } from '../domain/retry-schedule.js';

export interface DispatcherDeps {
  deliveries: DeliveryStore;
  secrets: WebhookSecretStore;
  policy: AddressPolicy;
  breakers: CircuitBreakers;
  limiter: EndpointLimiter;
  log: Logger;
  onAttempt?: (outcome: DeliveryOutcome['kind'], latencyMs: number) => void;
}

export interface DispatcherOptions {
  concurrency: number;
  timeoutMs: number;
  retryScheduleMs: readonly number[];
  pollMs: number;
}

const RESPONSE_SNIPPET_BYTES = 1024;
/** An endpoint at its in-flight cap is tried again this soon. */
const BUSY_ENDPOINT_DELAY_MS = 100;

/**
 * Claims due deliveries and sends them, up to `concurrency` at once. The lease outlives the
 * request deadline, so a delivery is never sent twice concurrently; if this process dies the
 * lease expires and another notifier (or this one restarted) sends it again with the same
 * webhook-id. Slow endpoints are capped per origin and tripped by a circuit breaker, so they
 * never hold up healthy ones.
 */
export class Dispatcher {
  private inFlight = 0;
  private wakeUp: (() => void) | undefined;
  private readonly stopController = new AbortController();
  private running: Promise<void> | undefined;
  private readonly leaseMs: number;

  constructor(
    private readonly deps: DispatcherDeps,
    private readonly options: DispatcherOptions,
  ) {
    // Longer than any attempt can take, so a live sender never loses its claim.
    this.leaseMs = options.timeoutMs * 2 + 1_000;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** New work was recorded: look now instead of at the next poll. */
  wake(): void {
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    this.wake();
    await this.running;
    while (this.inFlight > 0) await sleep(20);
  }

  private async run(): Promise<void> {
    const { signal } = this.stopController;
    while (!signal.aborted) {
      const woken = new Promise<void>((resolve) => (this.wakeUp = resolve));
      try {
        const claimed = await this.deps.deliveries.claimDue(this.options.concurrency - this.inFlight, this.leaseMs);
        for (const delivery of claimed) void this.deliver(delivery);
        // A full batch means more may be due right away.
        if (claimed.length > 0 && this.inFlight < this.options.concurrency) continue;
      } catch (error) {
        this.deps.log.warn('claiming deliveries failed', { error: errorMessage(error) });
      }
      await Promise.race([woken, sleep(this.options.pollMs, signal)]);
    }
  }

  private async deliver(delivery: Delivery): Promise<void> {
    this.inFlight += 1;
    try {
      await this.attempt(delivery);
    } catch (error) {
      // Recording failed (database away): the lease expires and the delivery is retried then.
      this.deps.log.warn('delivery bookkeeping failed', { deliveryId: delivery.id, error: errorMessage(error) });
    } finally {
      this.inFlight -= 1;
      this.wake();
    }
  }

  private async attempt(delivery: Delivery): Promise<void> {
    const { breakers, limiter, deliveries } = this.deps;
    const origin = new URL(delivery.url).origin;
    const admission = breakers.tryPass(origin);
    if (!admission.allowed) return deliveries.recordAttempt(delivery, undefined, deferred(admission.retryInMs));
    const release = limiter.tryAcquire(origin);
    if (!release) return deliveries.recordAttempt(delivery, undefined, deferred(BUSY_ENDPOINT_DELAY_MS));
    try {
      const { record, outcome } = await this.send(delivery);
      if (isEndpointFailure(outcome)) breakers.recordFailure(origin);
      else breakers.recordSuccess(origin);
      await deliveries.recordAttempt(delivery, record, this.next(outcome, record.attempt));
      this.deps.onAttempt?.(outcome.kind, record.latencyMs);
      this.deps.log.info('webhook attempt', { deliveryId: delivery.id, jobId: delivery.jobId, sequence: delivery.sequence, attempt: record.attempt, outcome: outcome.kind, statusCode: record.statusCode, latencyMs: record.latencyMs });
    } finally {
      release();
    }
  }

  private async send(delivery: Delivery): Promise<{ record: AttemptRecord; outcome: DeliveryOutcome }> {
    const startedAt = new Date();
    const attempt = delivery.attempts + 1;
    // Signed afresh on every attempt (new timestamp), always with the same webhook-id.
    const secrets = await this.deps.secrets.secretsFor(delivery.clientId);
    const headers = { ...webhookHeaders({ id: delivery.id, timestamp: Math.floor(startedAt.getTime() / 1000), body: delivery.payload, secrets }), 'user-agent': 'Conveyor-Webhooks/1.0' };
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
        record: { attempt, startedAt, statusCode: response.status, latencyMs: response.durationMs, responseSnippet: response.bodySnippet, error: null },
        outcome: classifyResponse({ status: response.status, durationMs: response.durationMs, retryAfterMs }),
      };
    } catch (error) {
      if (!(error instanceof WebhookRequestError)) throw error;
      return {
        record: { attempt, startedAt, statusCode: null, latencyMs: error.durationMs, responseSnippet: null, error: `${error.code}: ${error.message}` },
        outcome: classifyResponse({ error: { code: error.code, message: error.message }, durationMs: error.durationMs }),
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
        const delayMs = nextAttemptDelay(attemptsMade, { retryAfterMs: outcome.retryAfterMs, schedule: this.options.retryScheduleMs });
        return delayMs === null ? { type: 'failed' } : { type: 'retry', nextAttemptAt: new Date(Date.now() + delayMs) };
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
