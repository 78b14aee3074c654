import {
  messageDefinition,
  MessageEnvelope,
  type MessageKind,
  type MessagePayload,
  type TopologyNames,
} from '@conveyor/contracts';
import { errorMessage, PermanentError, RetryLaterError, type Logger, type Metrics } from '@conveyor/platform';
import type { Broker, ConsumerHandle, Delivery } from './broker.js';
import { publishToTier, tierAtLeast, tierForAttempt } from './retry-tiers.js';

export interface HandlerContext {
  log: Logger;
  envelope: MessageEnvelope;
  /** Aborted when the consumer shuts down; long work should stop and let the message be redelivered. */
  signal: AbortSignal;
  /** The message's W3C `traceparent` header, when its sender traced it. */
  traceparent: string | undefined;
}

/** A message consumer: `cancel` bounds the handlers under way by the shutdown grace; `drain` lets them finish. */
export interface MessageConsumerHandle extends ConsumerHandle {
  /**
   * Stops new deliveries and waits for the handlers under way to finish and be acked as usual
   * (a pause, not a shutdown); the broker bounds the wait (30 s), and a `cancel` meanwhile
   * starts the grace period.
   */
  drain(): Promise<void>;
}

export type MessageHandler<K extends MessageKind> = (
  payload: MessagePayload<K>,
  ctx: HandlerContext,
) => Promise<void>;

export interface MessageConsumerOptions<K extends MessageKind> {
  kind: K;
  /** Unacknowledged deliveries in flight on this consumer (the AMQP prefetch). */
  prefetch: number;
  /** Handlers running at once (deliveries beyond wait unacknowledged). Default = prefetch. */
  concurrency?: number;
  /** Longest wait of a finished delivery's ack, so that runs of them go as one `multiple` ack. Default 0. */
  ackHoldMs?: number;
  retryDelaysMs: readonly number[];
  /** Handler attempts before the message is dead-lettered (the first try included). */
  maxAttempts: number;
  /** The queue to consume; default the kind's work queue. */
  queue?: string;
  /** How long in-flight handlers may run on after cancel() before their signal is aborted. Default 10 s. */
  shutdownGraceMs?: number;
}

export interface MessageConsumerDeps {
  broker: Broker;
  names: TopologyNames;
  log: Logger;
  metrics: Metrics;
}

type Outcome =
  | { type: 'ack' }
  | { type: 'retry'; delayMs: number; error: string }
  | { type: 'dead-letter'; code: string; error: string };

/**
 * Turns a handler into a consumer with the house rules: the envelope and payload are parsed
 * against the catalog; returning acknowledges; a PermanentError or a malformed message is
 * dead-lettered now; any other error goes to the next retry tier (a copy with attempt + 1,
 * confirmed before the original is acked) until `maxAttempts`, then to the dead-letter queue.
 */
export function startMessageConsumer<K extends MessageKind>(
  deps: MessageConsumerDeps,
  options: MessageConsumerOptions<K>,
  handler: MessageHandler<K>,
): MessageConsumerHandle {
  const queue = options.queue ?? deps.names.workQueue(options.kind);
  const definition = messageDefinition(options.kind);
  const shutdown = new AbortController();
  // Each delivery gets its own signal, aborted together on shutdown. Thousands of handlers
  // listening on one shared signal would make every add/remove listener walk them all.
  const inFlight = new Set<AbortController>();
  shutdown.signal.addEventListener('abort', () => {
    for (const controller of inFlight) controller.abort(shutdown.signal.reason);
  });
  const baseLog = deps.log.child({ queue });
  // Bound once: resolving label values on every message is measurable at thousands per second.
  const counters = {
    consumed: deps.metrics.consumed.labels({ queue }),
    acked: deps.metrics.acked.labels({ queue }),
    nacked: deps.metrics.nacked.labels({ queue }),
    processingSeconds: {
      ack: deps.metrics.processingSeconds.labels({ queue, outcome: 'ack' }),
      retry: deps.metrics.processingSeconds.labels({ queue, outcome: 'retry' }),
      'dead-letter': deps.metrics.processingSeconds.labels({ queue, outcome: 'dead-letter' }),
    } satisfies Record<Outcome['type'], unknown>,
  };

  async function handle(delivery: Delivery): Promise<void> {
    const startedAt = process.hrtime.bigint();
    counters.consumed.inc();
    const parsed = parseDelivery(delivery);
    let outcome: Outcome;
    let envelope: MessageEnvelope | undefined;
    if (!parsed.ok) {
      outcome = { type: 'dead-letter', code: 'invalid_message', error: parsed.error };
    } else {
      const current = parsed.envelope;
      envelope = current;
      // The scoped logger is built only if something logs: most messages never do, and at
      // thousands per second a child logger per message is measurable.
      let scoped: Logger | undefined;
      const logFor = () =>
        (scoped ??= baseLog.child({
          messageId: current.messageId,
          correlationId: current.correlationId,
          attempt: current.attempt,
        }));
      const controller = new AbortController();
      inFlight.add(controller);
      try {
        const ctx: HandlerContext = {
          get log() {
            return logFor();
          },
          envelope: current,
          signal: controller.signal,
          traceparent: traceparentHeader(delivery.headers),
        };
        await handler(parsed.payload, ctx);
        outcome = { type: 'ack' };
      } catch (error) {
        if (shutdown.signal.aborted) {
          delivery.reject(true);
          counters.nacked.inc();
          return;
        }
        outcome = classify(error, envelope.attempt);
        logFor().warn('message handling failed', { outcome: outcome.type, error: errorMessage(error) });
      } finally {
        inFlight.delete(controller);
      }
    }
    try {
      await settle(delivery, envelope, outcome);
    } catch (error) {
      // Could not move the message on (broker gone): leave it unacked; it will be redelivered.
      baseLog.warn('could not settle message, leaving it for redelivery', { error: errorMessage(error) });
      delivery.reject(true);
      counters.nacked.inc();
      return;
    }
    const seconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    counters.processingSeconds[outcome.type].observe(seconds);
  }

  function parseDelivery(
    delivery: Delivery,
  ): { ok: true; envelope: MessageEnvelope; payload: MessagePayload<K> } | { ok: false; error: string } {
    let json: unknown;
    try {
      json = JSON.parse(delivery.body.toString('utf8'));
    } catch {
      return { ok: false, error: 'body is not JSON' };
    }
    const envelope = MessageEnvelope.safeParse(json);
    if (!envelope.success) return { ok: false, error: `bad envelope: ${envelope.error.message}` };
    if (envelope.data.kind !== definition.kind || envelope.data.version !== definition.version) {
      return { ok: false, error: `unexpected ${envelope.data.kind} v${envelope.data.version} on ${queue}` };
    }
    const payload = definition.schema.safeParse(envelope.data.payload);
    if (!payload.success) return { ok: false, error: `bad payload: ${payload.error.message}` };
    return { ok: true, envelope: envelope.data, payload: payload.data as MessagePayload<K> };
  }

  function classify(error: unknown, attempt: number): Outcome {
    if (error instanceof PermanentError)
      return { type: 'dead-letter', code: error.code, error: error.message };
    if (attempt + 1 >= options.maxAttempts)
      return { type: 'dead-letter', code: 'retries_exhausted', error: errorMessage(error) };
    const delayMs =
      error instanceof RetryLaterError
        ? tierAtLeast(error.retryAfterMs, options.retryDelaysMs)
        : tierForAttempt(attempt, options.retryDelaysMs);
    return { type: 'retry', delayMs, error: errorMessage(error) };
  }

  async function settle(
    delivery: Delivery,
    envelope: MessageEnvelope | undefined,
    outcome: Outcome,
  ): Promise<void> {
    switch (outcome.type) {
      case 'ack':
        break;
      case 'retry': {
        await publishToTier(deps.broker, deps.names, {
          routingKey: delivery.routingKey,
          envelope: envelope!,
          delayMs: outcome.delayMs,
          error: outcome.error,
        });
        deps.metrics.retried.inc({ queue, tier: String(outcome.delayMs) });
        break;
      }
      case 'dead-letter':
        await deps.broker.publish(deps.names.deadLetterExchange, delivery.routingKey, delivery.body, {
          messageId: envelope?.messageId ?? delivery.messageId ?? 'unknown',
          headers: {
            'x-error-code': outcome.code,
            'x-error-message': outcome.error.slice(0, 1000),
            'x-original-queue': queue,
            'x-attempts': (envelope?.attempt ?? 0) + 1,
          },
        });
        deps.metrics.deadLettered.inc({ queue, code: outcome.code });
        baseLog.error('message dead-lettered', {
          messageId: envelope?.messageId,
          code: outcome.code,
          error: outcome.error,
        });
        break;
      default: {
        const unreachable: never = outcome;
        throw new Error(`unknown outcome ${JSON.stringify(unreachable)}`);
      }
    }
    delivery.ack();
    counters.acked.inc();
  }

  const consumer = deps.broker.consume(queue, handle, {
    prefetch: options.prefetch,
    concurrency: options.concurrency,
    ackHoldMs: options.ackHoldMs,
  });
  return {
    queue,
    drain: () => consumer.cancel(),
    cancel: async () => {
      // In-flight handlers get a grace period to finish; then they are told to stop and their
      // messages go back to the queue untouched.
      const timer = setTimeout(() => shutdown.abort(), options.shutdownGraceMs ?? 10_000);
      await consumer.cancel();
      clearTimeout(timer);
    },
  };
}

function traceparentHeader(headers: Readonly<Record<string, unknown>>): string | undefined {
  const value = headers.traceparent;
  // amqplib hands a header written as a string back as a string; anything else is not ours.
  return typeof value === 'string' ? value : undefined;
}
