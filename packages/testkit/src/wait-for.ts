/** Polls `probe` until it returns a truthy value, or fails with `what` and the last value seen. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T> | T,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (last) return last as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
  const seen = lastError instanceof Error ? `error ${lastError.message}` : JSON.stringify(last);
  throw new Error(`timed out waiting for ${what} (last seen: ${seen})`);
}
