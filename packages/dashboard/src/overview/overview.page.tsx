import { Overview, Timeseries, type ThroughputBucket } from '@conveyor/contracts';
import { useEffect, useState } from 'preact/hooks';
import { apiJson } from '../api/api-client.js';
import { openEventStream, type StreamState } from '../api/event-stream.js';
import { jsonData } from '../api/sse-parser.js';
import { useApi } from '../api/use-api.js';
import { Link } from '../router.js';
import { ago, count } from '../ui/format.js';
import { LiveIndicator } from '../ui/live-indicator.js';
import { ErrorNote } from '../ui/notice.js';
import { JobCounts } from './job-counts.js';
import { TimeseriesChart, type ChartSeries } from './timeseries-chart.js';

/** The charts' window, and how often it is re-read (a bucket is a minute). */
const CHART_MINUTES = 60;
const CHART_REFRESH_MS = 30_000;

const THROUGHPUT: ChartSeries[] = [
  { label: 'submitted', color: '#4c6ef5', value: (b) => b.submitted },
  { label: 'succeeded', color: '#2f9e44', value: (b) => b.succeeded },
  { label: 'failed', color: '#e03131', value: (b) => b.failed },
];
const QUEUE_WAIT: ChartSeries[] = [
  { label: 'p50', color: '#4c6ef5', value: (b) => b.queueWaitMs?.p50 ?? null },
  { label: 'p95', color: '#f08c00', value: (b) => b.queueWaitMs?.p95 ?? null },
];
const RUN_TIME: ChartSeries[] = [
  { label: 'p50', color: '#4c6ef5', value: (b) => b.runMs?.p50 ?? null },
  { label: 'p95', color: '#f08c00', value: (b) => b.runMs?.p95 ?? null },
];

const NO_BUCKETS: ThroughputBucket[] = [];

export function OverviewPage() {
  const overview = useApi(() => apiJson(Overview, 'GET', '/v1/overview'), []);
  const timeseries = useApi(
    () => apiJson(Timeseries, 'GET', `/v1/overview/timeseries?minutes=${CHART_MINUTES}`),
    [],
    CHART_REFRESH_MS,
  );

  const [live, setLive] = useState<StreamState>('connecting');

  // The live stream sends a fresh Overview about every 2 s.
  useEffect(
    () =>
      openEventStream('/v1/live', {
        onState: setLive,
        onEvent: (event) => {
          if (event.event !== 'overview') return;
          const parsed = Overview.safeParse(jsonData(event));
          if (parsed.success) overview.update(() => parsed.data);
        },
      }),
    [],
  );

  const data = overview.data;
  return (
    <section>
      <h1>
        Overview <LiveIndicator state={live} />
      </h1>
      <ErrorNote error={overview.error} />
      {data && (
        <>
          <div class="tiles">
            <Tile label="In progress" value={count(data.jobs.inProgress)} />
            <Tile label="Outbox depth" value={count(data.outboxDepth)} />
            <Tile label="Pending webhooks" value={count(data.pendingWebhookDeliveries)} />
            <Tile label="Dead letters" value={count(data.deadLetters)} to="/dead-letters" />
            <Tile
              label="Object statuses"
              value={count(data.objects.count)}
              detail={`oldest seen ${ago(data.objects.oldestSeenAt)}, newest ${ago(data.objects.newestSeenAt)}`}
            />
          </div>
          <JobCounts overview={data} />
          <p class="muted">Updated {ago(data.at)}.</p>
        </>
      )}
      <h2>Last hour</h2>
      <ErrorNote error={timeseries.error} />
      <div class="charts">
        <TimeseriesChart
          title="Throughput (jobs a minute)"
          unit="jobs"
          buckets={timeseries.data?.buckets ?? NO_BUCKETS}
          series={THROUGHPUT}
        />
        <TimeseriesChart
          title="Queue wait (ms)"
          unit="ms"
          buckets={timeseries.data?.buckets ?? NO_BUCKETS}
          series={QUEUE_WAIT}
        />
        <TimeseriesChart
          title="Run time (ms)"
          unit="ms"
          buckets={timeseries.data?.buckets ?? NO_BUCKETS}
          series={RUN_TIME}
        />
      </div>
    </section>
  );
}

function Tile({ label, value, detail, to }: { label: string; value: string; detail?: string; to?: string }) {
  return (
    <div class="tile" data-tile={label}>
      <div class="tile-label">{to === undefined ? label : <Link to={to}>{label}</Link>}</div>
      <div class="tile-value">{value}</div>
      {detail !== undefined && <div class="tile-detail">{detail}</div>}
    </div>
  );
}
