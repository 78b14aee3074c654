import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from './api-client.js';

export interface Loaded<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload(): void;
  /** For live updates applied on top of the last answer. */
  update(change: (previous: T | undefined) => T | undefined): void;
}

/**
 * Loads with `load` when a dependency changes, and every `refreshMs` when given. An answer that
 * arrives after a newer request started is dropped, so a slow old answer never wins.
 */
export function useApi<T>(load: () => Promise<T>, deps: readonly unknown[], refreshMs?: number): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  const reload = useCallback(() => {
    const request = ++latest.current;
    setLoading(true);
    loadRef.current().then(
      (value) => {
        if (request !== latest.current) return;
        setData(value);
        setError(null);
        setLoading(false);
      },
      (failure: unknown) => {
        if (request !== latest.current) return;
        setError(messageOf(failure));
        setLoading(false);
      },
    );
  }, []);

  useEffect(() => {
    setData(undefined);
    reload();
    if (refreshMs === undefined) return undefined;
    const timer = setInterval(reload, refreshMs);
    return () => clearInterval(timer);
    // The caller names what the load depends on; reload reads the latest `load` through a ref.
  }, deps);

  // Unmounted: any answer still on its way is stale.
  useEffect(() => () => void ++latest.current, []);

  return { data, error, loading, reload, update: setData };
}
