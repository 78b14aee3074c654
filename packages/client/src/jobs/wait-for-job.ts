import type { JobProgress } from '@conveyor/contracts';
import { abortError, ConveyorError } from '../http/errors.js';
import { readJson, type ApiTransport } from '../http/api-transport.js';
import { serverSentEvents } from '../http/server-sent-events.js';
import type { Job } from './job-kinds.js';
import { isFinal } from './job-status.js';

export interface WaitOptions<K extends string = string> {
  /** Aborting rejects the wait with an AbortError (the job itself goes on; cancel it to stop it). */
  signal?: AbortSignal | undefined;
  /** Called with each new progress or status the client sees. */
  onProgress?: ((progress: JobProgress, job: Job<K>) => void) | undefined;
  /** Poll interval when the API sends no Retry-After (it does for unfinished jobs). Default 1000. */
  pollMs?: number | undefined;
  /** Follow `GET /v1/jobs/{id}/live` (Server-Sent Events) before polling. Default true. */
  live?: boolean | undefined;
}

const DEFAULT_POLL_MS = 1_000;

/**
 * Follows a job to its final status: over its live stream while the API serves one, by polling
 * otherwise (an API without the stream, a proxy that buffers it, a stream that ends early).
 */
export async function waitForJob<K extends string>(
  transport: ApiTransport,
  id: string,
  options: WaitOptions<K> = {},
): Promise<Job<K>> {
  const { signal } = options;
  if (signal?.aborted) throw abortError(`waiting for job ${id}`, signal);
  const seen = progressReporter(options.onProgress);
  if (options.live !== false) {
    const final = await followLiveStream<K>(transport, id, seen, signal);
    if (final) return final;
  }
  return poll<K>(transport, id, seen, options);
}

type Seen<K extends string> = (job: Job<K>) => void;

function progressReporter<K extends string>(onProgress: WaitOptions<K>['onProgress']): Seen<K> {
  let last = '';
  return (job) => {
    const key = `${job.status}:${job.progress.fraction}:${job.progress.message ?? ''}`;
    if (key === last) return;
    last = key;
    onProgress?.(job.progress, job);
  };
}

/** The final job from the live stream, or undefined when the stream cannot say (then poll). */
async function followLiveStream<K extends string>(
  transport: ApiTransport,
  id: string,
  seen: Seen<K>,
  signal: AbortSignal | undefined,
): Promise<Job<K> | undefined> {
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const { response } = await transport.send({
      path: `/v1/jobs/${encodeURIComponent(id)}/live`,
      headers: { accept: 'text/event-stream' },
      signal: stop.signal,
    });
    if (!response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) {
      await response.body?.cancel();
      return undefined;
    }
    for await (const event of serverSentEvents(response.body)) {
      if (event.event !== 'job') continue;
      const job = parseJob<K>(event.data);
      if (!job) continue;
      seen(job);
      if (isFinal(job.status)) return job;
    }
    return undefined;
  } catch (error) {
    if (signal?.aborted) throw abortError(`waiting for job ${id}`, signal);
    // A refused key is the answer for polling too; anything else (404 from an API without the
    // stream, a dropped connection) leaves polling to decide.
    if (error instanceof ConveyorError && (error.status === 401 || error.status === 403)) throw error;
    return undefined;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

function parseJob<K extends string>(data: string): Job<K> | undefined {
  try {
    const job: Job<K> = JSON.parse(data);
    return job;
  } catch {
    return undefined;
  }
}

async function poll<K extends string>(
  transport: ApiTransport,
  id: string,
  seen: Seen<K>,
  options: WaitOptions<K>,
): Promise<Job<K>> {
  const { signal } = options;
  const path = `/v1/jobs/${encodeURIComponent(id)}`;
  for (;;) {
    let answer;
    try {
      answer = await transport.send({ path, signal });
    } catch (error) {
      if (signal?.aborted) throw abortError(`waiting for job ${id}`, signal);
      // Busy or briefly unavailable (a producer restarting behind its balancer): the job is
      // still there, so wait as asked and read it again.
      if (error instanceof ConveyorError && (error.status === 429 || error.status === 503)) {
        await sleep(
          (error.retryAfterSeconds ?? (options.pollMs ?? DEFAULT_POLL_MS) / 1000) * 1000,
          signal,
          id,
        );
        continue;
      }
      throw error;
    }
    const job = await readJson<Job<K>>(answer.response, transport.url(path));
    seen(job);
    if (isFinal(job.status)) return job;
    const delayMs =
      answer.retryAfterSeconds !== undefined
        ? answer.retryAfterSeconds * 1000
        : (options.pollMs ?? DEFAULT_POLL_MS);
    await sleep(delayMs, signal, id);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(`waiting for job ${id}`, signal));
    const onAbort = () => {
      clearTimeout(timer);
      if (signal) reject(abortError(`waiting for job ${id}`, signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
