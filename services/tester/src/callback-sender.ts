/**
 * Plays the upstream client that notifies our producer: every interval it POSTs a batch of random
 * object ids to the callback URL, gives the producer a short deadline and never retries. A missed
 * callback is lost for good, exactly as with the real client, so every miss is counted and logged.
 */

export interface CallbackSenderOptions {
  /** e.g. http://127.0.0.1:9090/callback */
  targetUrl: string;
  intervalMs: number;
  /** Each callback carries between 1 and maxIds ids. */
  maxIds: number;
  /** Ids are drawn from [0, idRange); repeats within a batch are possible, as upstream. */
  idRange: number;
  timeoutMs: number;
  log: (message: string, meta: object) => void;
  /** Source of randomness in [0, 1); injectable for deterministic tests. */
  random?: () => number;
}

export interface CallbackStats {
  sent: number;
  ok: number;
  missed: number;
}

export interface CallbackSender {
  /** Stops scheduling callbacks; one already in flight still completes or times out. */
  stop(): void;
  stats(): CallbackStats;
}

/** A uniformly random integer in [0, bound). */
const randomBelow = (random: () => number, bound: number): number => Math.floor(random() * bound);

function randomObjectIds(random: () => number, maxIds: number, idRange: number): number[] {
  const count = 1 + randomBelow(random, maxIds);
  return Array.from({ length: count }, () => randomBelow(random, idRange));
}

/** fetch reports network errors as a bare "fetch failed" whose cause says what happened (ECONNREFUSED, ...). */
function describeFailure(error: unknown): string {
  if (error instanceof Error && error.cause instanceof Error)
    return `${error.message}: ${error.cause.message}`;
  return String(error);
}

export function startCallbackSender(options: CallbackSenderOptions): CallbackSender {
  const random = options.random ?? Math.random;
  const stats: CallbackStats = { sent: 0, ok: 0, missed: 0 };

  async function sendCallback(): Promise<void> {
    const objectIds = randomObjectIds(random, options.maxIds, options.idRange);
    stats.sent += 1;
    try {
      const response = await fetch(options.targetUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ object_ids: objectIds }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      // Drain the body so the keep-alive connection can be reused.
      await response.arrayBuffer();
      if (response.ok) {
        stats.ok += 1;
        return;
      }
      stats.missed += 1;
      options.log('callback rejected', { status: response.status, idCount: objectIds.length });
    } catch (error) {
      stats.missed += 1;
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      options.log(timedOut ? 'callback timed out' : 'callback failed', {
        idCount: objectIds.length,
        ...(timedOut ? { timeoutMs: options.timeoutMs } : { error: describeFailure(error) }),
      });
    }
  }

  const timer = setInterval(() => void sendCallback(), options.intervalMs);
  return {
    stop: () => clearInterval(timer),
    stats: () => ({ ...stats }),
  };
}
