import {
  DeadLetterDetail,
  DeadLetterPage,
  PurgeResult,
  RedriveResult,
  type DeadLetter,
  type DeadLetterSelection,
} from '@conveyor/contracts';
import { useState } from 'preact/hooks';
import { apiJson, messageOf } from '../api/api-client.js';
import { useApi } from '../api/use-api.js';
import { Link } from '../router.js';
import { ConfirmAction } from '../ui/confirm-action.js';
import { ago, count, dateTime, pretty } from '../ui/format.js';
import { ErrorNote } from '../ui/notice.js';

const PAGE_SIZE = 50;

export function DeadLettersPage() {
  const [kind, setKind] = useState('');
  const query = `?limit=${PAGE_SIZE}${kind === '' ? '' : `&kind=${encodeURIComponent(kind)}`}`;
  const page = useApi(() => apiJson(DeadLetterPage, 'GET', `/v1/dead-letters${query}`), [query]);
  const [inspected, setInspected] = useState<string | null>(null);
  const [olderError, setOlderError] = useState<string | null>(null);

  const redrive = async (selection: DeadLetterSelection) => {
    const { redriven } = await apiJson(RedriveResult, 'POST', '/v1/dead-letters/redrive', selection);
    page.reload();
    return `${count(redriven)} redriven.`;
  };
  const purge = async (selection: DeadLetterSelection) => {
    const { purged } = await apiJson(PurgeResult, 'POST', '/v1/dead-letters/purge', selection);
    page.reload();
    return `${count(purged)} purged.`;
  };
  const redriveOne = async (letter: DeadLetter) => {
    const { redriven } = await apiJson(RedriveResult, 'POST', `/v1/dead-letters/${letter.id}/redrive`);
    page.reload();
    return redriven === 1 ? 'Redriven.' : 'Nothing to redrive (already gone).';
  };
  const loadOlder = async () => {
    const cursor = page.data?.nextCursor;
    if (cursor === null || cursor === undefined) return;
    try {
      const older = await apiJson(
        DeadLetterPage,
        'GET',
        `/v1/dead-letters${query}&cursor=${encodeURIComponent(cursor)}`,
      );
      page.update((current) =>
        current === undefined
          ? older
          : { ...older, deadLetters: [...current.deadLetters, ...older.deadLetters] },
      );
    } catch (failure) {
      setOlderError(messageOf(failure));
    }
  };

  const kindSelection: DeadLetterSelection | null = kind === '' ? null : { kind };
  return (
    <section>
      <h1>Dead letters</h1>
      <form class="filters" aria-label="Filters" onSubmit={(event) => event.preventDefault()}>
        <label>
          Kind{' '}
          <input
            name="kind"
            placeholder="any"
            value={kind}
            onChange={(event) => setKind(event.currentTarget.value.trim())}
          />
        </label>
      </form>
      <ErrorNote error={page.error} />
      {page.data && (
        <>
          <p data-field="total">
            {count(page.data.total)} dead letter{page.data.total === 1 ? '' : 's'}
            {kind === '' ? '' : ` of kind ${kind}`}.
          </p>
          <div class="actions" aria-label="Bulk actions">
            {kindSelection !== null ? (
              <>
                <ConfirmAction
                  key={`redrive-${kind}`}
                  label={`Redrive all ${kind}`}
                  question={`Send every ${kind} dead letter back to its queue?`}
                  run={() => redrive(kindSelection)}
                />
                <ConfirmAction
                  key={`purge-${kind}`}
                  label={`Purge all ${kind}`}
                  question={`Delete every ${kind} dead letter for good?`}
                  danger
                  run={() => purge(kindSelection)}
                />
              </>
            ) : (
              <>
                <ConfirmAction
                  key="redrive-all"
                  label="Redrive all"
                  question="Send every dead letter back to its queue?"
                  disabled={page.data.total === 0}
                  run={() => redrive({ all: true })}
                />
                <ConfirmAction
                  key="purge-all"
                  label="Purge all"
                  question="Delete every dead letter for good?"
                  danger
                  disabled={page.data.total === 0}
                  run={() => purge({ all: true })}
                />
              </>
            )}
          </div>
          <table aria-label="Dead letters">
            <thead>
              <tr>
                <th>Kind</th>
                <th>Job</th>
                <th>Reason</th>
                <th class="num">Attempts</th>
                <th>Dead-lettered</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {page.data.deadLetters.map((letter) => (
                <DeadLetterRow
                  key={letter.id}
                  letter={letter}
                  open={inspected === letter.id}
                  onToggle={() => setInspected(inspected === letter.id ? null : letter.id)}
                  onRedrive={() => redriveOne(letter)}
                />
              ))}
            </tbody>
          </table>
          {page.data.nextCursor !== null && (
            <button type="button" onClick={() => void loadOlder()}>
              Older dead letters
            </button>
          )}
          <ErrorNote error={olderError} />
        </>
      )}
    </section>
  );
}

interface DeadLetterRowProps {
  letter: DeadLetter;
  open: boolean;
  onToggle(): void;
  onRedrive(): Promise<string>;
}

function DeadLetterRow({ letter, open, onToggle, onRedrive }: DeadLetterRowProps) {
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
