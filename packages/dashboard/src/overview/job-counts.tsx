import { JobStatus, type Overview } from '@conveyor/contracts';
import { Link } from '../router.js';
import { count } from '../ui/format.js';

/** Counts per status, and per kind below them; a cell links to the jobs list filtered by it. */
export function JobCounts({ overview }: { overview: Overview }) {
  const statuses = JobStatus.options;
  const kinds = Object.keys(overview.jobs.byKind).sort();
  return (
    <table class="counts" aria-label="Jobs by status and kind">
      <thead>
        <tr>
          <th>Kind</th>
          {statuses.map((status) => (
            <th key={status} class="num">
              {status}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {kinds.map((kind) => (
          <tr key={kind} data-kind={kind}>
            <td>{kind}</td>
            {statuses.map((status) => (
              <td key={status} class="num" data-status={status}>
                <Link to={`/jobs?kind=${encodeURIComponent(kind)}&status=${status}`}>
                  {count(overview.jobs.byKind[kind]?.[status] ?? 0)}
                </Link>
              </td>
            ))}
          </tr>
        ))}
      </tbody>
      <tfoot>
        <tr data-kind="all">
          <th>All</th>
          {statuses.map((status) => (
            <td key={status} class="num" data-status={status}>
              <Link to={`/jobs?status=${status}`}>{count(overview.jobs.byStatus[status] ?? 0)}</Link>
            </td>
          ))}
        </tr>
      </tfoot>
    </table>
  );
}
