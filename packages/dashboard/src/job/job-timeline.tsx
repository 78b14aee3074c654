import type { JobHistoryEntry } from '@conveyor/contracts';
import { dateTime } from '../ui/format.js';
import { entryKey } from './job-live.js';

function describe(entry: JobHistoryEntry): string {
  switch (entry.type) {
    case 'status':
      return `${entry.status}${entry.attempt > 0 ? ` (attempt ${entry.attempt})` : ''}${
        entry.error === null ? '' : ` — ${entry.error.code}: ${entry.error.message}`
      }`;
    case 'progress':
      return `progress ${Math.round(entry.progress.fraction * 100)} %${
        entry.progress.message === null ? '' : ` — ${entry.progress.message}`
      }`;
    case 'delivery':
      return `webhook for event #${entry.sequence}, attempt ${entry.attempt}: ${
        entry.statusCode === null ? 'no answer' : `HTTP ${entry.statusCode}`
      } in ${Math.round(entry.latencyMs)} ms${entry.error === null ? '' : ` — ${entry.error}`}`;
  }
}

export function JobTimeline({ entries }: { entries: readonly JobHistoryEntry[] }) {
  if (entries.length === 0) return <p class="muted">No event yet.</p>;
  return (
    <ol class="timeline" aria-label="Event timeline">
      {entries.map((entry) => (
        <li key={entryKey(entry)} data-entry-type={entry.type}>
          <time dateTime={entry.at}>{dateTime(entry.at)}</time>{' '}
          <span class={`entry-${entry.type}`}>{describe(entry)}</span>
        </li>
      ))}
    </ol>
  );
}
