import { backoffDelay, errorMessage, sleep } from '@conveyor/platform';
import { abortedError, StorageError, type ReadOptions } from './blob-store.js';

/** One response for an object, from some byte to its end. */
export interface RangeResponse {
  body: AsyncIterable<Uint8Array>;
  etag: string;
  /** First byte the body carries (0 for a whole-object response). */
  start: number;
  /** Size of the whole object, not of this range. */
  totalBytes: number;
}

/** What the resumable reader needs from a store: ranged reads and a verdict on failures. */
export interface RangeSource {
  /** For messages, e.g. `s3://bucket/key`. */
  readonly name: string;
  /** Requests the object from `fromByte` on; `ifMatch` asks the server to refuse another version.
   * Aborting `signal` must abort the request and destroy a body that is still streaming. */
  open(fromByte: number, ifMatch: string | undefined, signal: AbortSignal): Promise<RangeResponse>;
  /** The error to throw at once for a failure retrying cannot fix, or undefined to retry. */
  permanentError(error: unknown): Error | undefined;
}

export interface ResumePolicy {
  /** Consecutive failed attempts without a single new byte before the read gives up. */
  maxFailures: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

/** Fixed by the first response; every resumed response must belong to the same object version. */
interface ObjectVersion {
  etag: string;
  totalBytes: number;
}

/**
 * Streams a whole object, resuming after a failure with a ranged request from the first byte not
 * yet delivered. Chunks are yielded as they arrive, so memory stays bounded by one chunk. Each
 * resumed response is checked against the first (ETag, start, total) because some servers ignore
 * If-Match: two versions are never spliced.
 */
export async function* readResumably(
  source: RangeSource,
  policy: ResumePolicy,
  options: ReadOptions = {},
): AsyncGenerator<Uint8Array> {
  const { signal } = options;
  let version: ObjectVersion | undefined;
  let bytesRead = 0;
  let failuresWithoutProgress = 0;
  let retries = 0;
  for (;;) {
    if (signal?.aborted) throw abortedError(signal, `reading ${source.name}`);
    const attempt = attemptController(signal);
    try {
      const response = await source.open(bytesRead, version?.etag, attempt.signal);
      version ??= { etag: response.etag, totalBytes: response.totalBytes };
      assertSameVersion(source.name, version, response, bytesRead);
      for await (const chunk of response.body) {
        bytesRead += chunk.byteLength;
        failuresWithoutProgress = 0;
        options.onProgress?.(bytesRead, version.totalBytes);
        yield chunk;
      }
      if (bytesRead === version.totalBytes) return;
      throw new Error(`the response ended early, at byte ${bytesRead} of ${version.totalBytes}`);
    } catch (error) {
      if (signal?.aborted) throw abortedError(signal, `reading ${source.name}`);
      const permanent = error instanceof StorageError ? error : source.permanentError(error);
      if (permanent) throw permanent;
      failuresWithoutProgress += 1;
      if (failuresWithoutProgress >= policy.maxFailures) {
        throw tooManyFailures(source.name, failuresWithoutProgress, bytesRead, version, error);
      }
      retries += 1;
      options.onRetry?.({ attempt: retries, bytesRead, error: errorMessage(error) });
      await sleep(backoffDelay(failuresWithoutProgress - 1, policy.retryBaseMs, policy.retryMaxMs), signal);
    } finally {
      // Releases the connection of an attempt that stopped early (failure, check, or the consumer
      // breaking off); after a complete body it is a no-op.
      attempt.dispose();
    }
  }
}

function assertSameVersion(
  name: string,
  version: ObjectVersion,
  response: RangeResponse,
  bytesRead: number,
): void {
  if (response.etag !== version.etag) {
    throw new StorageError(
      'object_changed',
      `${name} was replaced while being read (ETag ${version.etag} became ${response.etag} after ${bytesRead} bytes); read it again from the start`,
    );
  }
  if (response.start !== bytesRead || response.totalBytes !== version.totalBytes) {
    throw new StorageError(
      'object_changed',
      `${name}: asked to resume at byte ${bytesRead} of ${version.totalBytes}, the server sent bytes from ${response.start} of ${response.totalBytes}; read it again from the start`,
    );
  }
}

function tooManyFailures(
  name: string,
  failures: number,
  bytesRead: number,
  version: ObjectVersion | undefined,
  lastError: unknown,
): StorageError {
  const progress = version ? `${bytesRead} of ${version.totalBytes} bytes received` : 'no response received';
  return new StorageError(
    'too_many_failures',
    `gave up reading ${name} after ${failures} consecutive failed attempts without progress (${progress}); last error: ${errorMessage(lastError)}`,
    { cause: lastError },
  );
}

/** A signal for one attempt: aborted with the caller's signal, or by dispose() when the attempt ends. */
function attemptController(parent: AbortSignal | undefined): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const forward = () => controller.abort(parent?.reason);
  parent?.addEventListener('abort', forward, { once: true });
  return {
    signal: controller.signal,
    dispose() {
      parent?.removeEventListener('abort', forward);
      controller.abort();
    },
  };
}
