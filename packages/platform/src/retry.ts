import { backoffDelay } from './backoff.js';
import { sleep } from './waiting.js';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/**
 * Retries `operation` with capped exponential backoff until it succeeds or `signal` aborts,
 * logging each failed attempt. For start-up dependencies (a database that is still booting).
 */
export async function retryUntilSuccess<T>(
  what: string,
  operation: () => Promise<T>,
  options: { log: Logger; signal?: AbortSignal; baseMs?: number; maxMs?: number },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const retryInMs = backoffDelay(attempt, options.baseMs ?? 200, options.maxMs ?? 10_000);
      options.log.warn(`${what} failed, retrying`, {
        attempt: attempt + 1,
        retryInMs,
        error: errorMessage(error),
      });
      await sleep(retryInMs, options.signal);
    }
  }
}
