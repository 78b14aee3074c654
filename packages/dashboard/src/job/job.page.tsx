import { Job, JobHistory, isTerminal, type JobHistoryEntry } from '@conveyor/contracts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiJson } from '../api/api-client.js';
import { openEventStream, type StreamState } from '../api/event-stream.js';
import { useApi } from '../api/use-api.js';
import { Link } from '../router.js';
import { dateTime, pretty } from '../ui/format.js';
import { ErrorNote } from '../ui/notice.js';
import { StatusBadge } from '../ui/status-badge.js';
import { DeliveryList } from './deliveries.schema.js';
import { JobActions } from './job-actions.js';
import { JobDeliveries } from './job-deliveries.js';
import { mergeHistory, parseJobLiveEvent } from './job-live.js';
import { JobResult } from './job-result.js';
import { JobTimeline } from './job-timeline.js';
import { ProgressBar } from './progress-bar.js';

/** While the live stream is down, or a webhook push is unsettled, it is re-read this often. */
const POLL_WITHOUT_STREAM_MS = 3_000;

/** One job at its own address, `/ui/jobs/{id}`, followed live until it is final. */
export function JobPage({ id }: { id: string }) {
  const job = useApi(() => apiJson(Job, 'GET', `/v1/jobs/${encodeURIComponent(id)}`), [id]);
  const history = useApi(() => apiJson(JobHistory, 'GET', `/v1/jobs/${encodeURIComponent(id)}/events`), [id]);
  const deliveries = useApi(
    () => apiJson(DeliveryList, 'GET', `/v1/jobs/${encodeURIComponent(id)}/deliveries`),
    [id],
  );
  // An action starts following the job again: its stream ended when the job was final.
  const [follow, setFollow] = useState(0);
  const [stream, setStream] = useState<StreamState>('connecting');
  // Entries that came live, kept apart: a re-read of the history that started before they
  // were written must not drop them.
  const [liveEntries, setLiveEntries] = useState<JobHistoryEntry[]>([]);
  useEffect(() => setLiveEntries([]), [id]);
  const final = useRef(false);
  final.current = job.data !== undefined && isTerminal(job.data.status);

  useEffect(
    () =>
      openEventStream(`/v1/jobs/${encodeURIComponent(id)}/live`, {
        onState: setStream,
        onOpen: () => {
          history.reload();
          deliveries.reload();
        },
        reconnectAfterEnd: () => !final.current,
        onEvent: (event) => {
          const live = parseJobLiveEvent(event);
          if (live === undefined) return;
          if (live.type === 'job') {
            job.update(() => live.job);
            return;
          }
          setLiveEntries((known) => mergeHistory(known, live.entries));
          if (live.entries.some((entry) => entry.type === 'delivery')) deliveries.reload();
        },
      }),
    [id, follow],
  );

  useEffect(() => {
    if (stream === 'open' || final.current) return undefined;
    const timer = setInterval(() => {
      if (!final.current) job.reload();
    }, POLL_WITHOUT_STREAM_MS);
    return () => clearInterval(timer);
  }, [stream, id]);

  // A push in flight settles after the job's stream may have ended: re-read until none is.
  const unsettled = (deliveries.data?.deliveries ?? []).some(
    (d) => d.status === 'pending' || d.status === 'sending',
  );
  useEffect(() => {
    if (!unsettled) return undefined;
    const timer = setInterval(deliveries.reload, POLL_WITHOUT_STREAM_MS);
    return () => clearInterval(timer);
  }, [unsettled, id]);

  const changed = (answer: Job | null) => {
    if (answer !== null) job.update(() => answer);
    history.reload();
    deliveries.reload();
    setFollow((n) => n + 1);
  };

  const data = job.data;
  return (
    <section class="job-page">
      <p>
        <Link to="/jobs">← Jobs</Link>
      </p>
      <h1>
        Job <code>{id}</code>
      </h1>
      <ErrorNote error={job.error} />
      {data && (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd data-field="status">
              <StatusBadge status={data.status} />
              {data.error !== null && (
                <span class="error-text">
                  {' '}
                  {data.error.code}: {data.error.message}
                </span>
              )}
            </dd>
            <dt>Kind</dt>
            <dd>{data.kind}</dd>
            <dt>customId</dt>
            <dd>{data.customId ?? '—'}</dd>
            <dt>Attempts</dt>
            <dd data-field="attempts">{data.attempts}</dd>
            <dt>Created</dt>
            <dd>{dateTime(data.createdAt)}</dd>
            <dt>Started</dt>
            <dd>{dateTime(data.startedAt)}</dd>
            <dt>Finished</dt>
            <dd>{dateTime(data.finishedAt)}</dd>
            <dt>callbackUrl</dt>
            <dd>{data.callbackUrl ?? '—'}</dd>
            <dt>Live</dt>
            <dd class="muted">
              {final.current ? 'final' : stream === 'open' ? 'following' : 'reconnecting…'}
            </dd>
          </dl>
          <ProgressBar fraction={data.progress.fraction} message={data.progress.message} />
          <JobActions job={data} onChanged={changed} />
          <div class="columns">
            <div>
              <h2>Input</h2>
              <pre class="json">{pretty(data.input)}</pre>
            </div>
            <div>
              <h2>Result</h2>
              <JobResult job={data} />
            </div>
          </div>
        </>
      )}
      <h2>Timeline</h2>
      <ErrorNote error={history.error} />
      {history.data && <JobTimeline entries={mergeHistory(history.data.entries, liveEntries)} />}
      <h2>Webhook deliveries</h2>
      <ErrorNote error={deliveries.error} />
      {deliveries.data && <JobDeliveries deliveries={deliveries.data.deliveries} />}
    </section>
  );
}
