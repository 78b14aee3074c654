import { JobStatus } from '@conveyor/contracts';
import { useEffect, useState } from 'preact/hooks';
import { navigate } from '../router.js';
import { queryOf, type JobFilters } from './job-filters.js';

/** The list's filters, applied by changing the address (so a filtered view can be shared). */
export function JobFiltersForm({ filters, kinds }: { filters: JobFilters; kinds: readonly string[] }) {
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
