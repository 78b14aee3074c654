import sharp from 'sharp';

/**
 * Process-wide libvips settings; call once at start-up, before the first resize.
 *
 * `concurrency` is libvips's worker threads per image. The consumer already runs several resizes
 * at once, and sharp runs each on a libuv pool thread (UV_THREADPOOL_SIZE, default 4, which caps
 * resizes truly in flight), so the threads competing for the CPU are about
 * jobs in parallel × concurrency. More threads than cores is no faster, costs memory (each
 * thread holds its own tiles) and makes every job's latency worse, so choose
 * concurrency ≈ cores / parallel jobs, at least 1: on 2 cores with 2 or more jobs, 1. sharp's
 * own default is one thread per core, or 1 on glibc Linux without jemalloc (what it picks on our Linux hosts),
 * so it is set explicitly rather than depending on the host's allocator.
 *
 * The operation cache is turned off: it memoises operations on the same input, and every job
 * brings a different image, so it would hit nearly never while holding up to 50 MB of pixels.
 */
export function configureSharp({ concurrency }: { concurrency: number }): void {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    // 0 would not mean "none": sharp takes it as "reset to one thread per core".
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  sharp.concurrency(concurrency);
  sharp.cache(false);
}
