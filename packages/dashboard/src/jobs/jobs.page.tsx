import { Job, JobPage, Overview } from '@conveyor/contracts';
import { useEffect, useState } from 'preact/hooks';
import { apiJson } from '../api/api-client.js';
import { openEventStream, type StreamState } from '../api/event-stream.js';
import { jsonData } from '../api/sse-parser.js';
import { useApi } from '../api/use-api.js';
import { Link } from '../router.js';
import { ago, dateTime } from '../ui/format.js';
import { LiveIndicator } from '../ui/live-indicator.js';
import { ErrorNote } from '../ui/notice.js';
import { OlderPages } from '../ui/older-pages.js';
import { StatusBadge } from '../ui/status-badge.js';
import { filtersOf, queryOf } from './job-filters.js';
import { JobFiltersForm } from './job-filters-form.js';
import { JobSearchBox } from './job-search-box.js';
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

  const kinds = Object.keys(overview.data?.jobs.byKind ?? {}).sort();
  return (
    <section>
      <h1>
        Jobs <LiveIndicator state={live} />
      </h1>
      <JobSearchBox />
      <JobFiltersForm filters={filters} kinds={kinds} />
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
          <OlderPages
            list={page}
            label="Older jobs"
            read={(cursor) =>
              apiJson(JobPage, 'GET', `/v1/jobs${queryOf(filters, { limit: String(PAGE_SIZE), cursor })}`)
            }
            append={(shown, older) => ({
              jobs: [...shown.jobs, ...older.jobs],
              nextCursor: older.nextCursor,
            })}
          />
        </>
      )}
    </section>
  );
}
