import type { JobContext } from './job-definition.js';
import { abortError, PermanentJobError } from './job-errors.js';
import type { LoadedJobKind } from './job-module.js';
import { describeIssues } from './job-schema.js';
import type { JobThreadPool } from './job-thread-pool.js';
import { jsonProblem, toJsonValue } from './json-value.js';

/**
 * Runs one attempt of a job: validates the input (PermanentJobError 'invalid_input'), runs
 * `run` inline or in `pool` per the kind's isolation, under the kind's timeout (the signal
 * aborts, then PermanentJobError 'timeout'), and validates the result (PermanentJobError
 * 'invalid_result'). It settles as soon as the signal aborts, with `ctx.signal.reason` when that
 * is an Error (else PermanentJobError 'cancelled'); anything `run` throws is rethrown as it is,
 * for classifyJobError. The result comes back in its JSON form (undefined becomes null).
 */
export async function runJob(
  kind: LoadedJobKind,
  input: unknown,
  ctx: JobContext,
  pool?: JobThreadPool,
): Promise<unknown> {
  if (kind.isolation === 'thread' && pool === undefined) {
    throw new TypeError(
      `kind ${kind.kind} runs in a worker thread (isolation: 'thread'): pass a JobThreadPool to runJob`,
    );
  }
  const checked = kind.validateInput(input);
  if (!checked.ok) {
    throw new PermanentJobError(`invalid input: ${describeIssues(checked.issues)}`, {
      code: 'invalid_input',
      details: checked.issues,
    });
  }
  const deadline = withTimeout(ctx.signal, kind.timeoutMs);
  let settled = false;
  try {
    if (deadline.signal.aborted) throw abortError(deadline.signal);
    // Fields one by one: a host's context may be a class instance, whose methods a spread would drop.
    const runCtx: JobContext = {
      jobId: ctx.jobId,
      customId: ctx.customId,
      attempt: ctx.attempt,
      signal: deadline.signal,
      // A run left behind by a timeout or a cancellation may still report progress: it is dropped.
      progress: (fraction, message) => {
        if (!settled) reportProgress(ctx, fraction, message);
      },
      log: ctx.log,
    };
    const running =
      pool !== undefined && kind.isolation === 'thread'
        ? pool.run(kind, checked.value, runCtx)
        : Promise.resolve().then(() => kind.run(checked.value, runCtx));
    return checkResult(kind, await untilAborted(running, deadline.signal));
  } finally {
    settled = true;
    deadline.clear();
  }
}

function checkResult(kind: LoadedJobKind, result: unknown): unknown {
  const checked = kind.validateResult(result);
  if (!checked.ok) {
    throw new PermanentJobError(`invalid result: ${describeIssues(checked.issues)}`, {
      code: 'invalid_result',
      details: checked.issues,
    });
  }
  const problem = jsonProblem(checked.value);
  if (problem !== null) throw new PermanentJobError(`invalid result: ${problem}`, { code: 'invalid_result' });
  return toJsonValue(checked.value);
}

/** `signal` aborted by either the caller's signal or, after `timeoutMs`, a PermanentJobError 'timeout'. */
function withTimeout(outer: AbortSignal, timeoutMs: number | null): { signal: AbortSignal; clear(): void } {
  const controller = new AbortController();
  const follow = () => controller.abort(outer.reason);
  if (outer.aborted) follow();
  else outer.addEventListener('abort', follow, { once: true });
  const timer =
    timeoutMs === null
      ? undefined
      : setTimeout(
          () =>
            controller.abort(
              new PermanentJobError(`job timed out after ${timeoutMs} ms`, { code: 'timeout' }),
            ),
          timeoutMs,
        );
  return {
    signal: controller.signal,
    clear: () => {
      clearTimeout(timer);
      outer.removeEventListener('abort', follow);
    },
  };
}

/** The run's outcome, or the abort's as soon as the signal aborts (a run that ignores it is left behind). */
function untilAborted<T>(running: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    running.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function reportProgress(ctx: JobContext, fraction: unknown, message: unknown): void {
  if (typeof fraction !== 'number' || Number.isNaN(fraction)) return;
  ctx.progress(Math.min(1, Math.max(0, fraction)), typeof message === 'string' ? message : undefined);
}
