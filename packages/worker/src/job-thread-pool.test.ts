import { threadId } from 'node:worker_threads';
import { builtPackageUrl, fixtureUrl, recordingContext } from '../test-fixtures/fixtures.js';
import { classifyJobError, PermanentJobError } from './job-errors.js';
import { jobKindsFromModule, type LoadedJobKind } from './job-module.js';
import { JobThreadPool } from './job-thread-pool.js';
import { runJob } from './run-job.js';

/**
 * The kinds of test-fixtures/thread-jobs.mjs, which worker threads import by URL. Jest cannot
 * import an ES module itself, so the main side holds stand-ins of the same kinds.
 */
const kindNames = ['spin', 'spin-until-aborted', 'wait-for-abort', 'ignore-abort', 'fail'] as const;
const kinds = jobKindsFromModule(
  {
    default: kindNames.map((kind) => ({
      kind,
      input: {},
      isolation: 'thread',
      ...(kind === 'wait-for-abort' ? { timeoutMs: 300 } : {}),
      run: () => {
        throw new Error('runs in a worker thread');
      },
    })),
  },
  { name: 'thread-jobs.mjs', href: fixtureUrl('thread-jobs.mjs') },
);
const kind = (name: (typeof kindNames)[number]): LoadedJobKind => kinds.find((k) => k.kind === name)!;

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function failureOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

describe('JobThreadPool', () => {
  let pool: JobThreadPool;
  /** Terminates a run 200 ms after its signal aborted. */
  let impatientPool: JobThreadPool;

  beforeAll(() => {
    builtPackageUrl(); // the threads run the compiled package: fail clearly when it is stale
    pool = new JobThreadPool({ threads: 2, abortGraceMs: 20_000 });
    impatientPool = new JobThreadPool({ threads: 1, abortGraceMs: 200 });
  });

  afterAll(async () => {
    await pool.close();
    await impatientPool.close();
  });

  it('runs a CPU-bound job in a thread while the event loop keeps ticking; progress and log arrive', async () => {
    const ctx = recordingContext();
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(Date.now()), 10);
    const started = Date.now();
    try {
      const result = (await runJob(kind('spin'), { ms: 500 }, ctx, pool)) as {
        spunMs: number;
        threadId: number;
      };
      expect(result.spunMs).toBe(500);
      expect(result.threadId).not.toBe(threadId);
    } finally {
      clearInterval(timer);
    }
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    // Blocked, the loop would tick once or not at all; free, about 50 times in 500 ms.
    expect(ticks.length).toBeGreaterThanOrEqual(10);
    const longestGap = Math.max(...ticks.slice(1).map((at, i) => at - ticks[i]!));
    expect(longestGap).toBeLessThan(400);
    expect(ctx.progressed).toEqual([
      [0.25, 'started'],
      [1, 'done'],
    ]);
    expect(ctx.logged).toEqual([{ level: 'info', message: 'spinning', meta: { ms: 500 } }]);
  });

  it("reaches a CPU-bound run's signal on cancellation: it stops by itself, with the caller's reason", async () => {
    const ctx = recordingContext();
    setTimeout(() => ctx.controller.abort(new Error('user cancelled')), 200);
    const started = Date.now();
    const error = await failureOf(pool.run(kind('spin-until-aborted'), {}, ctx));
    expect(error.message).toBe('user cancelled');
    // Stopped by the run itself, long before the 20 s grace would terminate it.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(ctx.logged).toEqual([{ level: 'warn', message: 'saw abort', meta: { reason: 'user cancelled' } }]);
  });

  it("reaches a waiting run's signal on timeout through runJob", async () => {
    const ctx = recordingContext();
    await expect(runJob(kind('wait-for-abort'), {}, ctx, pool)).rejects.toMatchObject({
      name: 'PermanentJobError',
      code: 'timeout',
    });
    // runJob settles at the timeout; the thread's note of it follows.
    await waitFor(() => ctx.logged.length > 0);
    expect(ctx.logged).toEqual([
      {
        level: 'warn',
        message: 'saw abort',
        meta: { reason: 'job timed out after 300 ms', code: 'timeout' },
      },
    ]);
  });

  it('terminates a run that ignores its signal after the grace, and the pool goes on', async () => {
    const ctx = recordingContext();
    setTimeout(() => ctx.controller.abort(new Error('cancelled, ignored')), 100);
    const started = Date.now();
    await expect(impatientPool.run(kind('ignore-abort'), {}, ctx)).rejects.toThrow('cancelled, ignored');
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(impatientPool.run(kind('spin'), { ms: 1 }, recordingContext())).resolves.toMatchObject({
      spunMs: 1,
    });
  });

  it('does not start a run whose signal already aborted', async () => {
    const ctx = recordingContext();
    ctx.controller.abort(new Error('too late'));
    await expect(pool.run(kind('spin'), { ms: 1 }, ctx)).rejects.toThrow('too late');
  });

  it('rethrows errors with their class info, for classifyJobError', async () => {
    const fail = (how: string) => failureOf(pool.run(kind('fail'), { how }, recordingContext()));

    const own = await fail('own-class');
    expect(own).toBeInstanceOf(PermanentJobError);
    expect(classifyJobError(own)).toEqual({ type: 'permanent', code: 'bad_pixels', message: 'bad pixels' });

    const duck = await fail('duck-retry');
    expect(classifyJobError(duck)).toEqual({
      type: 'retry',
      retryAfterMs: 1500,
      code: 'rate_limited',
      message: 'slow down',
    });

    const coded = await fail('coded');
    expect(classifyJobError(coded)).toEqual({ type: 'retry', code: 'ENOSPC', message: 'disk full' });

    const plain = await fail('plain');
    expect(plain).toMatchObject({ name: 'TypeError', message: 'plain failure' });
    expect(plain.stack).toContain('thread-jobs.mjs');

    expect(classifyJobError(await fail('bigint'))).toEqual({
      type: 'permanent',
      code: 'invalid_result',
      message: 'invalid result: total: a bigint is not JSON (return it as a string)',
    });
  });

  it('checks at start that a thread finds the kind in its module', async () => {
    await expect(pool.preload(kind('spin'))).resolves.toBeUndefined();
    await expect(pool.preload({ ...kind('spin'), kind: 'absent' })).rejects.toMatchObject({
      code: 'kind_not_found',
    });
    await expect(pool.preload({ ...kind('spin'), specifier: fixtureUrl('missing.mjs') })).rejects.toThrow(
      /Cannot find module/,
    );
  });
});
