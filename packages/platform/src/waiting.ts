/** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Waits for `promise`, but at most `ms`: true if it resolved in time, false if time ran out; a
 * rejection in time is rethrown. Unlike racing it against sleep(), the timer goes as soon as the
 * promise settles, so a finished wait never keeps the process (or a test worker) alive.
 */
export async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeUp = new AbortController();
  try {
    return await Promise.race([promise.then(() => true), sleep(ms, timeUp.signal).then(() => false)]);
  } finally {
    timeUp.abort();
  }
}
