import { Job } from '@conveyor/contracts';
import { useState } from 'preact/hooks';
import { apiJson, messageOf } from '../api/api-client.js';
import { navigate } from '../router.js';
import { ErrorNote } from '../ui/notice.js';

/** POST /v1/jobs from the page: the kind's own schema checks the input, its message is shown. */
export function SubmitJobForm({ kinds }: { kinds: readonly string[] }) {
  const [kind, setKind] = useState('factorize');
  const [input, setInput] = useState('{"number": "1234"}');
  const [customId, setCustomId] = useState('');
  const [callbackUrl, setCallbackUrl] = useState('');
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch (failure) {
      setError(`The input is not JSON: ${messageOf(failure)}`);
      return;
    }
    try {
      const job = await apiJson(Job, 'POST', '/v1/jobs', {
        kind: kind.trim(),
        input: parsedInput,
        ...(customId.trim() === '' ? {} : { customId: customId.trim() }),
        ...(callbackUrl.trim() === '' ? {} : { callbackUrl: callbackUrl.trim() }),
      });
      navigate(`/jobs/${job.id}`);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };

  return (
    <details class="submit-job">
      <summary>Submit a job</summary>
      <form onSubmit={(event) => void submit(event)}>
        <label>
          Kind{' '}
          <input
            name="kind"
            list="known-kinds"
            required
            value={kind}
            onInput={(e) => setKind(e.currentTarget.value)}
          />
        </label>
        <datalist id="known-kinds">
          {kinds.map((known) => (
            <option key={known} value={known} />
          ))}
        </datalist>
        <label>
          Input (JSON)
          <textarea name="input" rows={3} value={input} onInput={(e) => setInput(e.currentTarget.value)} />
        </label>
        <label>
          customId{' '}
          <input name="customId" value={customId} onInput={(e) => setCustomId(e.currentTarget.value)} />
        </label>
        <label>
          callbackUrl{' '}
          <input
            name="callbackUrl"
            value={callbackUrl}
            onInput={(e) => setCallbackUrl(e.currentTarget.value)}
          />
        </label>
        <button type="submit" class="primary">
          Submit
        </button>
        <ErrorNote error={error} />
      </form>
    </details>
  );
}
