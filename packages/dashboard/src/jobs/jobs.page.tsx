import { Job, JobPage, JobStatus, Overview } from '@conveyor/contracts';
import { useEffect, useState } from 'preact/hooks';
import { apiJson, messageOf } from '../api/api-client.js';
import { openEventStream, type StreamState } from '../api/event-stream.js';
import { jsonData } from '../api/sse-parser.js';
import { useApi } from '../api/use-api.js';
import { Link, navigate } from '../router.js';
import { ago, dateTime } from '../ui/format.js';
import { LiveIndicator } from '../ui/live-indicator.js';
import { ErrorNote } from '../ui/notice.js';
import { StatusBadge } from '../ui/status-badge.js';
import { filtersOf, queryOf, searchTarget, type JobFilters } from './job-filters.js';
import { applyLiveJobs } from './live-jobs.js';
import { SubmitJobForm } from './submit-job-form.js';

const PAGE_SIZE = 50;
/** Live jobs are added on top; past this many the oldest shown fall off. */
const MAX_SHOWN = 500;
/** Live changes wait this long to be shown together. */
const LIVE_BATCH_MS = 200;

export function JobsPage({ query }: { query: URLSearchParams }) {
  const filters = filtersOf(query);
  const listQuery = queryOf(filters, { limit: String(PAGE_SIZE) });
  const page = useApi(() => apiJson(JobPage, 'GET', `/v1/jobs${listQuery}`), [listQuery]);
  const overview = useApi(() => apiJson(Overview, 'GET', '/v1/overview'), []);
  const [olderError, setOlderError] = useState<string | null>(null);
  const [live, setLive] = useState<StreamState>('connecting');

  // New and changed jobs arrive on the live stream; a `resync` (too many at once) re-reads.
  // Jobs are applied in batches: at thousands of changes a second, one render each would not keep up.
  useEffect(() => {
    let arrived: Job[] = [];
    let flush: ReturnType<typeof setTimeout> | undefined;
    const applyArrived = () => {
      const batch = arrived;
      arrived = [];
      flush = undefined;
      page.update((current) =>
        current === undefined ? current : applyLiveJobs(current, batch, filters, MAX_SHOWN),
      );
    };
    const close = openEventStream('/v1/live', {
      onState: setLive,
      // Jobs created between the first read and the stream's start are in no event: re-read.
      onOpen: () => page.reload(),
      onEvent: (event) => {
        if (event.event === 'resync') return page.reload();
        if (event.event !== 'job') return undefined;
        const parsed = Job.safeParse(jsonData(event));
        if (!parsed.success) return undefined;
        arrived.push(parsed.data);
        flush ??= setTimeout(applyArrived, LIVE_BATCH_MS);
        return undefined;
      },
    });
    return () => {
      close();
      clearTimeout(flush);
    };
  }, [listQuery]);

  const loadOlder = async () => {
    const cursor = page.data?.nextCursor;
    if (cursor === null || cursor === undefined) return;
    try {
      const older = await apiJson(
        JobPage,
        'GET',
        `/v1/jobs${queryOf(filters, { limit: String(PAGE_SIZE), cursor })}`,
      );
      page.update((current) =>
        current === undefined
          ? older
          : { jobs: [...current.jobs, ...older.jobs], nextCursor: older.nextCursor },
      );
      setOlderError(null);
    } catch (failure) {
      setOlderError(messageOf(failure));
    }
  };

  const kinds = Object.keys(overview.data?.jobs.byKind ?? {}).sort();
  return (
    <section>
      <h1>
        Jobs <LiveIndicator state={live} />
      </h1>
      <SearchBox />
      <FiltersForm filters={filters} kinds={kinds} />
      <SubmitJobForm kinds={kinds} />
      <ErrorNote error={page.error} />
      {page.data && (
        <>
          <table aria-label="Jobs" class="jobs">
            <thead>
              <tr>
                <th>Job</th>
                <th>Kind</th>
                <th>Status</th>
                <th>Progress</th>
                <th>customId</th>
                <th class="num">Attempts</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {page.data.jobs.map((job) => (
                <tr key={job.id} data-job-id={job.id}>
                  <td>
                    <Link to={`/jobs/${job.id}`}>
                      <code>{job.id.slice(0, 8)}</code>
                    </Link>
                  </td>
                  <td>{job.kind}</td>
                  <td>
                    <StatusBadge status={job.status} />
                  </td>
                  <td>{Math.round(job.progress.fraction * 100)} %</td>
                  <td>{job.customId ?? '—'}</td>
                  <td class="num">{job.attempts}</td>
                  <td title={dateTime(job.createdAt)}>{ago(job.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.data.jobs.length === 0 && <p>No job matches these filters.</p>}
          {page.data.nextCursor !== null && (
            <button type="button" onClick={() => void loadOlder()}>
              Older jobs
            </button>
          )}
          <ErrorNote error={olderError} />
        </>
      )}
    </section>
  );
}

function SearchBox() {
  const [text, setText] = useState('');
  const search = (event: Event) => {
    event.preventDefault();
    const target = searchTarget(text);
    if (target === null) return;
    if ('jobId' in target) navigate(`/jobs/${target.jobId}`);
    else navigate(`/jobs${queryOf({ status: null, kind: '', clientId: '', customId: target.customId })}`);
  };
  return (
    <form class="search" role="search" onSubmit={search}>
      <input
        name="search"
        type="search"
        placeholder="Job id or customId"
        aria-label="Job id or customId"
        value={text}
        onInput={(event) => setText(event.currentTarget.value)}
      />{' '}
      <button type="submit">Find</button>
    </form>
  );
}

function FiltersForm({ filters, kinds }: { filters: JobFilters; kinds: readonly string[] }) {
  const [draft, setDraft] = useState(filters);
  useEffect(() => setDraft(filters), [queryOf(filters)]);
  const apply = (event: Event) => {
    event.preventDefault();
    navigate(`/jobs${queryOf(draft)}`);
  };
  return (
    <form class="filters" onSubmit={apply} aria-label="Filters">
      <label>
        Status{' '}
        <select
          name="status"
          value={draft.status ?? ''}
          onChange={(event) => {
            const status = JobStatus.safeParse(event.currentTarget.value);
            setDraft({ ...draft, status: status.success ? status.data : null });
          }}
        >
          <option value="">any</option>
          {JobStatus.options.map((status) => (
            <option key={status} value={status}>
              {status}
            </option>
          ))}
        </select>
      </label>
      <label>
        Kind{' '}
        <select
          name="kind"
          value={draft.kind}
          onChange={(event) => setDraft({ ...draft, kind: event.currentTarget.value })}
        >
          <option value="">any</option>
          {[...new Set([...kinds, ...(draft.kind === '' ? [] : [draft.kind])])].map((kind) => (
            <option key={kind} value={kind}>
              {kind}
            </option>
          ))}
        </select>
      </label>
      <label>
        customId{' '}
        <input
          name="customId"
          value={draft.customId}
          onInput={(event) => setDraft({ ...draft, customId: event.currentTarget.value })}
        />
      </label>
      <label>
        Client{' '}
        <input
          name="clientId"
          value={draft.clientId}
          onInput={(event) => setDraft({ ...draft, clientId: event.currentTarget.value })}
        />
      </label>
      <button type="submit">Apply</button>{' '}
      <button type="button" class="link" onClick={() => navigate('/jobs')}>
        Clear
      </button>
    </form>
  );
}
