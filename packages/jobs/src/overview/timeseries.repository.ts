import type { ThroughputBucket } from '@conveyor/contracts';
import { sql, type Database, type Kysely } from '@conveyor/database';
import { fillBuckets, type MinuteFigures } from './timeseries.js';

/**
 * How long before the window a job may have been created and still count where it started or
 * finished inside it. Every read is bounded by jobs_created_at_idx (created_at never changes,
 * so the jobs' updates stay HOT) to the window plus this: a job that starts or finishes more
 * than an hour after its creation is left out of the queue-wait and run figures and of the
 * succeeded/failed counts, the price of never scanning the whole table.
 */
export const TIMESERIES_LOOKBACK_MS = 3_600_000;

/** Per minute over the last `minutes` minutes (the current one included), optionally of one kind. */
export async function readTimeseries(
  db: Kysely<Database>,
  options: { minutes: number; kind?: string },
): Promise<ThroughputBucket[]> {
  const kind = options.kind ?? null;
  const { rows } = await sql<{
    from: Date;
    minute: Date | null;
    metric: 'submitted' | 'finished' | 'started';
    succeeded: string;
    failed: string;
    submitted: string;
    p50: number | null;
    p95: number | null;
  }>`with bounds as (
      select date_trunc('minute', now()) - make_interval(mins => ${options.minutes - 1}) as from_minute
    ),
    recent as (
      select created_at, started_at, finished_at, status from jobs, bounds
      where created_at >= bounds.from_minute - make_interval(secs => ${TIMESERIES_LOOKBACK_MS / 1000})
        and (${kind}::text is null or kind = ${kind}::text)
    )
    select bounds.from_minute as from, m.* from bounds left join (
      select 'submitted' as metric, date_trunc('minute', created_at) as minute, count(*) as submitted,
        0 as succeeded, 0 as failed, null::double precision as p50, null::double precision as p95
      from recent, bounds where created_at >= bounds.from_minute group by 2
      union all
      select 'finished', date_trunc('minute', finished_at), 0,
        count(*) filter (where status = 'succeeded'), count(*) filter (where status = 'failed'),
        percentile_cont(0.5) within group (order by extract(epoch from finished_at - started_at) * 1000)
          filter (where started_at is not null),
        percentile_cont(0.95) within group (order by extract(epoch from finished_at - started_at) * 1000)
          filter (where started_at is not null)
      from recent, bounds where finished_at >= bounds.from_minute group by 2
      union all
      select 'started', date_trunc('minute', started_at), 0, 0, 0,
        percentile_cont(0.5) within group (order by extract(epoch from started_at - created_at) * 1000),
        percentile_cont(0.95) within group (order by extract(epoch from started_at - created_at) * 1000)
      from recent, bounds where started_at >= bounds.from_minute group by 2
    ) m on true`.execute(db);
  const from = rows[0]?.from;
  if (!from) throw new Error('the timeseries query returned no row');
  const figures: MinuteFigures[] = [];
  for (const row of rows) {
    if (!row.minute) continue;
    const percentiles = row.p50 === null || row.p95 === null ? undefined : { p50: row.p50, p95: row.p95 };
    switch (row.metric) {
      case 'submitted':
        figures.push({ minute: row.minute, submitted: Number(row.submitted) });
        break;
      case 'finished':
        figures.push({
          minute: row.minute,
          succeeded: Number(row.succeeded),
          failed: Number(row.failed),
          runMs: percentiles,
        });
        break;
      case 'started':
        figures.push({ minute: row.minute, queueWaitMs: percentiles });
        break;
    }
  }
  return fillBuckets(from, options.minutes, figures);
}
