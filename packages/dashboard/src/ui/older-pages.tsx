import { useState } from 'preact/hooks';
import { messageOf } from '../api/api-client.js';
import type { Loaded } from '../api/use-api.js';
import { ErrorNote } from './notice.js';

interface OlderPagesProps<P extends { nextCursor: string | null }> {
  /** The list as shown, first page and any appended since. */
  list: Loaded<P>;
  label: string;
  /** Reads the page after `cursor`. */
  read(cursor: string): Promise<P>;
  /** The list with the older page after it (the older page's cursor is the next one). */
  append(shown: P, older: P): P;
}

/** The button under a cursor-paged list that appends the next older page, or says why it could not. */
export function OlderPages<P extends { nextCursor: string | null }>({
  list,
  label,
  read,
  append,
}: OlderPagesProps<P>) {
  const [error, setError] = useState<string | null>(null);
  const cursor = list.data?.nextCursor ?? null;
  const loadOlder = async () => {
    if (cursor === null) return;
    try {
      const older = await read(cursor);
      list.update((shown) => (shown === undefined ? older : append(shown, older)));
      setError(null);
    } catch (failure) {
      setError(messageOf(failure));
    }
  };
  return (
    <>
      {cursor !== null && (
        <button type="button" onClick={() => void loadOlder()}>
          {label}
        </button>
      )}
      <ErrorNote error={error} />
    </>
  );
}
