import { monitorEventLoopDelay } from 'node:perf_hooks';
import client from 'prom-client';

/**
 * The metrics every service exposes at /metrics. One registry per service instance (not the
 * global one) so tests can run several services in one process.
 */
export function createMetrics(service: string) {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  new client.Gauge({
    name: 'conveyor_event_loop_delay_p99_seconds',
    help: 'p99 event-loop delay since the previous scrape',
    registers: [registry],
    collect() {
      this.set(loopDelay.percentile(99) / 1e9);
      loopDelay.reset();
    },
  });

  const counter = (name: string, help: string, labelNames: string[]) =>
    new client.Counter({ name, help, labelNames, registers: [registry] });

  return {
    registry,
    httpRequests: counter('conveyor_http_requests_total', 'HTTP requests answered', [
      'method',
      'route',
      'status',
    ]),
    published: counter('conveyor_messages_published_total', 'Messages confirmed by the broker', ['exchange']),
    publishFailures: counter('conveyor_publish_failures_total', 'Publishes that were not confirmed', [
      'reason',
    ]),
    spilled: counter(
      'conveyor_outbox_spilled_total',
      'Messages written to the outbox because the broker was unavailable',
      [],
    ),
    consumed: counter('conveyor_messages_consumed_total', 'Messages delivered to a handler', ['queue']),
    acked: counter('conveyor_messages_acked_total', 'Messages acknowledged', ['queue']),
    nacked: counter('conveyor_messages_nacked_total', 'Messages negatively acknowledged', ['queue']),
    retried: counter('conveyor_messages_retried_total', 'Messages sent to a retry tier', ['queue', 'tier']),
    deadLettered: counter('conveyor_messages_dead_lettered_total', 'Messages sent to the dead-letter queue', [
      'queue',
      'code',
    ]),
    reconnects: counter('conveyor_broker_reconnects_total', 'Broker connections (re)established', []),
    processingSeconds: new client.Histogram({
      name: 'conveyor_message_processing_seconds',
      help: 'Time from delivery to ack',
      labelNames: ['queue', 'outcome'],
      buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    stop() {
      loopDelay.disable();
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
