import { useState } from 'preact/hooks';
import { errorOf, messageOf, takeKeyPageNotice } from '../api/api-client.js';
import { forgetOperatorKey, rememberOperatorKey } from '../api/operator-key.js';
import { navigate } from '../router.js';
import { ErrorNote } from '../ui/notice.js';

/** Only our own paths: `next` comes from the address bar and must not lead off the dashboard. */
function safeNext(next: string): string {
  return next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/key') ? next : '/';
}

/**
 * Asks for an operator key (with auth on, every API call needs one). The key is checked against
 * an operator-only route before it is kept, so a client key is refused here with the API's words.
 */
export function KeyPage({ next }: { next: string }) {
  const [notice] = useState(takeKeyPageNotice);
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [checking, setChecking] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setChecking(true);
    setError(null);
    try {
      const response = await fetch('/v1/overview', { headers: { authorization: `Bearer ${key.trim()}` } });
      if (!response.ok) {
        forgetOperatorKey();
        setError((await errorOf(response)).message);
        return;
      }
      rememberOperatorKey(key.trim());
      navigate(safeNext(next), { replace: true });
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setChecking(false);
    }
  };

  return (
    <section class="key-page">
      <h1>Operator key</h1>
      <p>
        This Conveyor asks for an API key with the <code>operator</code> role. It is kept in this tab only
        (sessionStorage) and sent as <code>Authorization: Bearer</code>.
      </p>
      {notice !== null && error === null && (
        <p class="note error" role="alert">
          {notice}
        </p>
      )}
      <form onSubmit={(event) => void submit(event)}>
        <label>
          Key{' '}
          <input
            name="operator-key"
            type="password"
            autocomplete="off"
            required
            value={key}
            onInput={(event) => setKey(event.currentTarget.value)}
          />
        </label>{' '}
        <button type="submit" class="primary" disabled={checking || key.trim() === ''}>
          {checking ? 'Checking…' : 'Use this key'}
        </button>
      </form>
      <ErrorNote error={error} />
    </section>
  );
}
