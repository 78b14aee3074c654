import { useState } from 'preact/hooks';
import { navigate } from '../router.js';
import { queryOf, searchTarget } from './job-filters.js';

/** One box for a job id (opens the job) or a customId (filters the list by it). */
export function JobSearchBox() {
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
