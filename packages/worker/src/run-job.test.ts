import { z } from 'zod';
import { recordingContext } from '../test-fixtures/fixtures.js';
import type { JobContext } from './job-definition.js';
import { classifyJobError, PermanentJobError, RetryJobError } from './job-errors.js';
import { jobKindsFromModule, type LoadedJobKind } from './job-module.js';
import { runJob } from './run-job.js';

function kindOf(definition: Record<string, unknown>): LoadedJobKind {
  const [kind] = jobKindsFromModule(
    { default: { kind: 'test-kind', input: {}, ...definition } },
    { name: 'test', href: 'file:///test.mjs' },
  );
  if (kind === undefined) throw new Error('no kind');
  return kind;
}

/** The rejection of `promise`, for assertions on its fields. */
async function failureOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected a rejection');
}

describe('runJob', () => {
  it('runs with the parsed input and returns the result as JSON', async () => {
    const kind = kindOf({
      input: z.object({ n: z.number(), label: z.string().default('sum') }),
      run: (input: { n: number; label: string }) => ({ [input.label]: input.n * 2, at: new Date(0) }),
    });
    expect(await runJob(kind, { n: 21 }, recordingContext())).toEqual({
      sum: 42,
      at: '1970-01-01T00:00:00.000Z',
    });
  });

  it('clamps progress to 0..1 and drops a fraction that is not a number', async () => {
    const ctx = recordingContext();
    const kind = kindOf({
      run: (_input: unknown, jobCtx: JobContext) => {
        jobCtx.progress(-0.5);
        jobCtx.progress(0.5, 'half');
        jobCtx.progress(7, 'over');
        jobCtx.progress(Number.NaN);
        jobCtx.log.info('ran', { ok: true });
      },
    });
    expect(await runJob(kind, {}, ctx)).toBeNull();
    expect(ctx.progressed).toEqual([
      [0, undefined],
      [0.5, 'half'],
      [1, 'over'],
    ]);
    expect(ctx.logged).toEqual([{ level: 'info', message: 'ran', meta: { ok: true } }]);
  });

  it("refuses bad input as permanent 'invalid_input', naming the fields, without running", async () => {
    const run = jest.fn();
    const kind = kindOf({
      input: z.object({ number: z.number(), items: z.array(z.object({ url: z.url() })) }),
      run,
    });
    const error = await failureOf(
      runJob(
        kind,
        { number: 'x', items: [{ url: 'https://a.example' }, { url: 'nope' }] },
        recordingContext(),
      ),
    );
    expect(error).toBeInstanceOf(PermanentJobError);
    expect(error).toMatchObject({
      code: 'invalid_input',
      message:
        'invalid input: number: Invalid input: expected number, received string; items.1.url: Invalid URL',
      details: [
        { path: 'number', message: expect.any(String) as unknown },
        { path: 'items.1.url', message: 'Invalid URL' },
      ],
    });
    expect(run).not.toHaveBeenCalled();
  });

  it("refuses a result that fails its schema or is not JSON as permanent 'invalid_result'", async () => {
    const result = z.object({ total: z.number() });
    await expect(
      runJob(kindOf({ result, run: () => ({ total: 'many' }) }), {}, recordingContext()),
    ).rejects.toMatchObject({
      name: 'PermanentJobError',
      code: 'invalid_result',
      message: 'invalid result: total: Invalid input: expected number, received string',
    });
    await expect(
      runJob(kindOf({ run: () => ({ seen: new Map([['a', 1]]) }) }), {}, recordingContext()),
    ).rejects.toMatchObject({
      code: 'invalid_result',
      message: 'invalid result: seen: a Map is not plain JSON',
    });
    await expect(
      runJob(kindOf({ run: () => [1, Number.POSITIVE_INFINITY] }), {}, recordingContext()),
    ).rejects.toMatchObject({
      message: 'invalid result: 1: Infinity is not a JSON number',
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(runJob(kindOf({ run: () => circular }), {}, recordingContext())).rejects.toMatchObject({
      message: 'invalid result: self: a circular reference is not JSON',
    });
  });

  it('rethrows what run throws, as it is', async () => {
    const thrown = new RetryJobError('busy', { afterMs: 100 });
    await expect(runJob(kindOf({ run: () => Promise.reject(thrown) }), {}, recordingContext())).rejects.toBe(
      thrown,
    );
    const sync = new TypeError('sync throw');
    await expect(
      runJob(
        kindOf({
          run: () => {
            throw sync;
          },
        }),
        {},
        recordingContext(),
      ),
    ).rejects.toBe(sync);
  });

  it("aborts the signal on timeout and ends as permanent 'timeout'", async () => {
    let seen: unknown;
    const kind = kindOf({
      timeoutMs: 50,
      run: (_input: unknown, ctx: JobContext) =>
        new Promise((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => {
            seen = ctx.signal.reason;
            reject(new Error('stopped'));
          }),
        ),
    });
    const started = Date.now();
    const error = await failureOf(runJob(kind, {}, recordingContext()));
    expect(error).toBeInstanceOf(PermanentJobError);
    expect(error).toMatchObject({ code: 'timeout', message: 'job timed out after 50 ms' });
    expect(classifyJobError(error)).toMatchObject({ type: 'permanent', code: 'timeout' });
    expect(seen).toBe(error);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('times out a run that ignores its signal', async () => {
    const kind = kindOf({ timeoutMs: 30, run: () => new Promise(() => undefined) });
    await expect(runJob(kind, {}, recordingContext())).rejects.toMatchObject({ code: 'timeout' });
  });

  it("settles on cancellation with the caller's reason, or as permanent 'cancelled'", async () => {
    const kind = kindOf({
      run: (_input: unknown, ctx: JobContext) =>
        new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('late'))),
    });
    const ctx = recordingContext();
    const shutdown = Object.assign(new Error('worker stopping'), { code: 'shutdown' });
    setTimeout(() => ctx.controller.abort(shutdown), 20);
    await expect(runJob(kind, {}, ctx)).rejects.toBe(shutdown);

    const cancelled = recordingContext();
    setTimeout(() => cancelled.controller.abort('user asked'), 20);
    await expect(runJob(kind, {}, cancelled)).rejects.toMatchObject({
      name: 'PermanentJobError',
      code: 'cancelled',
    });
  });

  it('does not start a job whose signal already aborted', async () => {
    const run = jest.fn();
    const ctx = recordingContext();
    ctx.controller.abort(new Error('gone'));
    await expect(runJob(kindOf({ run }), {}, ctx)).rejects.toThrow('gone');
    expect(run).not.toHaveBeenCalled();
  });

  it('drops progress from a run left behind by a timeout, and calls a class-based context as methods', async () => {
    class HostContext {
      readonly progressed: number[] = [];
      jobId = 'job-2';
      customId = 'custom';
      attempt = 3;
      signal = new AbortController().signal;
      log = recordingContext().log;
      progress(fraction: number): void {
        this.progressed.push(fraction);
      }
    }
    const ctx = new HostContext();
    let seen: Pick<JobContext, 'jobId' | 'customId' | 'attempt'> | undefined;
    let late: (() => void) | undefined;
    const kind = kindOf({
      timeoutMs: 20,
      run(_input: unknown, jobCtx: JobContext) {
        seen = { jobId: jobCtx.jobId, customId: jobCtx.customId, attempt: jobCtx.attempt };
        jobCtx.progress(0.1);
        late = () => jobCtx.progress(0.9);
        return new Promise(() => undefined);
      },
    });
    await expect(runJob(kind, {}, ctx)).rejects.toMatchObject({ code: 'timeout' });
    late?.();
    expect(ctx.progressed).toEqual([0.1]);
    expect(seen).toEqual({ jobId: 'job-2', customId: 'custom', attempt: 3 });
  });

  it('calls a method-style run on its definition', async () => {
    const kind = kindOf({
      run(this: { kind: string }, input: unknown) {
        return `${this.kind}:${String(input)}`;
      },
    });
    expect(await runJob(kind, 'x', recordingContext())).toBe('test-kind:x');
  });

  it('wants a pool for a thread kind', async () => {
    await expect(
      runJob(kindOf({ run: () => 1, isolation: 'thread' }), {}, recordingContext()),
    ).rejects.toThrow(
      "kind test-kind runs in a worker thread (isolation: 'thread'): pass a JobThreadPool to runJob",
    );
  });
});
