import { errorMessage, waitAtMost, type Logger } from '@conveyor/platform';
import client from 'prom-client';
import type { BacklogCounts } from './backlog.repository.js';

export interface BacklogSources {
  /** Outbox, webhook and stored dead-letter backlogs, each counted up to `cap` (see countBacklogs). */
  counts(cap: number): Promise<BacklogCounts>;
  /** Messages still in the dead-letter queue, not yet moved to PostgreSQL. */
  deadLetters(): Promise<number>;
  log: Logger;
}

/** A scrape waits this long for the figures; a slower source reports NaN for that scrape. */
const SCRAPE_DEADLINE_MS = 2_000;
/** Rows counted at most per backlog: enough to tell a backlog from a disaster, cheap to count. */
const COUNT_CAP = 100_000;

/**
 * Gauges read when Prometheus scrapes, not on a timer: nothing runs between scrapes, and each
 * scrape sees the figures of that moment. A source that fails or is late reports NaN (no value
 * for that scrape) rather than a stale or zero one, and never fails the whole scrape.
 */
export function registerBacklogGauges(registry: client.Registry, sources: BacklogSources): void {
  let pending: Promise<[BacklogCounts | undefined, number | undefined]> | undefined;
  let warnedAt = -Infinity;
  const read = async <T>(what: string, source: () => Promise<T>): Promise<T | undefined> => {
    let value: T | undefined;
    try {
      const answered = await waitAtMost(
        source().then((answer) => void (value = answer)),
        SCRAPE_DEADLINE_MS,
      );
      if (!answered) throw new Error(`no answer within ${SCRAPE_DEADLINE_MS} ms`);
      return value;
    } catch (error) {
      // At most one line a minute: a database outage must not turn each scrape into a log line.
      if (Date.now() - warnedAt > 60_000) {
        warnedAt = Date.now();
        sources.log.warn('backlog gauge unavailable', { source: what, error: errorMessage(error) });
      }
      return undefined;
    }
  };
  // The three gauges are collected together on each scrape: the sources are read once for all three.
  const figures = () =>
    (pending ??= Promise.all([
      read('database', () => sources.counts(COUNT_CAP)),
      read('broker', () => sources.deadLetters()),
    ]).finally(() => setImmediate(() => (pending = undefined))));

  const gauge = (
    name: string,
    help: string,
    value: (f: [BacklogCounts | undefined, number | undefined]) => number | undefined,
  ) =>
    new client.Gauge({
      name,
      help,
      registers: [registry],
      async collect() {
        this.set(value(await figures()) ?? Number.NaN);
      },
    });
  gauge(
    'conveyor_outbox_messages',
    `Outbox rows not yet relayed to the broker (counted up to ${COUNT_CAP})`,
    ([counts]) => counts?.outbox,
  );
  gauge(
    'conveyor_webhook_deliveries_pending',
    `Webhook deliveries pending or being sent (counted up to ${COUNT_CAP})`,
    ([counts]) => counts?.pendingDeliveries,
  );
  gauge(
    'conveyor_dead_letter_messages',
    `Dead letters awaiting an operator: kept in PostgreSQL (counted up to ${COUNT_CAP}) plus those still in the dead-letter queue`,
    ([counts, queued]) =>
      counts === undefined || queued === undefined ? undefined : counts.deadLetters + queued,
  );
}
