import { DeadLetterDetail, type DeadLetter } from '@conveyor/contracts';
import { apiJson } from '../api/api-client.js';
import { useApi } from '../api/use-api.js';
import { Link } from '../router.js';
import { ConfirmAction } from '../ui/confirm-action.js';
import { ago, dateTime, pretty } from '../ui/format.js';
import { ErrorNote } from '../ui/notice.js';

interface DeadLetterRowProps {
  letter: DeadLetter;
  open: boolean;
  onToggle(): void;
  onRedrive(): Promise<string>;
}

/** One dead letter, with its redrive and, opened, its body and headers. */
export function DeadLetterRow({ letter, open, onToggle, onRedrive }: DeadLetterRowProps) {
  return (
    <>
      <tr data-dead-letter-id={letter.id} data-job-id={letter.jobId ?? ''}>
        <td>{letter.kind}</td>
        <td>
          {letter.jobId === null ? (
            '—'
          ) : (
            <Link to={`/jobs/${letter.jobId}`}>
              <code>{letter.jobId.slice(0, 8)}</code>
            </Link>
          )}
        </td>
        <td>
          <code>{letter.reason.code}</code> {letter.reason.message}
        </td>
        <td class="num">{letter.attempts}</td>
        <td title={dateTime(letter.deadLetteredAt)}>{ago(letter.deadLetteredAt)}</td>
        <td>
          <button type="button" aria-expanded={open} onClick={onToggle}>
            {open ? 'Hide' : 'Inspect'}
          </button>{' '}
          <ConfirmAction label="Redrive" question="Send it back to its queue?" run={onRedrive} />
        </td>
      </tr>
      {open && (
        <tr class="detail">
          <td colSpan={6}>
            <DeadLetterInspector id={letter.id} />
          </td>
        </tr>
      )}
    </>
  );
}

/** The message itself, read when the row is opened. */
function DeadLetterInspector({ id }: { id: string }) {
  const detail = useApi(() => apiJson(DeadLetterDetail, 'GET', `/v1/dead-letters/${id}`), [id]);
  return (
    <div class="inspector">
      <ErrorNote error={detail.error} />
      {detail.data && (
        <>
          <h3>Body</h3>
          <pre class="json">{pretty(detail.data.body)}</pre>
          <h3>Headers</h3>
          <pre class="json">{pretty(detail.data.headers)}</pre>
        </>
      )}
    </div>
  );
}
