import {
  DeadLetterPage,
  PurgeResult,
  RedriveResult,
  type DeadLetter,
  type DeadLetterSelection,
} from '@conveyor/contracts';
import { useState } from 'preact/hooks';
import { apiJson } from '../api/api-client.js';
import { useApi } from '../api/use-api.js';
import { ConfirmAction } from '../ui/confirm-action.js';
import { count } from '../ui/format.js';
import { DeadLetterRow } from './dead-letter-row.js';
import { ErrorNote } from '../ui/notice.js';
import { OlderPages } from '../ui/older-pages.js';

const PAGE_SIZE = 50;

export function DeadLettersPage() {
  const [kind, setKind] = useState('');
  const query = `?limit=${PAGE_SIZE}${kind === '' ? '' : `&kind=${encodeURIComponent(kind)}`}`;
  const page = useApi(() => apiJson(DeadLetterPage, 'GET', `/v1/dead-letters${query}`), [query]);
  const [inspected, setInspected] = useState<string | null>(null);

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
          <OlderPages
            list={page}
            label="Older dead letters"
            read={(cursor) =>
              apiJson(DeadLetterPage, 'GET', `/v1/dead-letters${query}&cursor=${encodeURIComponent(cursor)}`)
            }
            append={(shown, older) => ({
              ...older,
              deadLetters: [...shown.deadLetters, ...older.deadLetters],
            })}
          />
        </>
      )}
    </section>
  );
}
