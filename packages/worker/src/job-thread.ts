/**
 * Runs one job in a worker thread (loaded by job-thread-entry.cjs): imports the job module by
 * its specifier, once per thread, and calls `run` with a context whose progress and log travel
 * back over the task's MessagePort.
 */
import { receiveMessageOnPort } from 'node:worker_threads';
import { decodeError, encodeError } from './error-transfer.js';
import type { JobContext, JobLogger } from './job-definition.js';
import { PermanentJobError } from './job-errors.js';
import { jsonProblem, toJsonValue } from './json-value.js';
import { exportedDefinition } from './module-exports.js';
import type { AbortMessage, LogLevel, ThreadMessage, ThreadOutcome, ThreadTask } from './thread-protocol.js';

type Run = (input: unknown, ctx: JobContext) => unknown;

const modules = new Map<string, Promise<Record<string, unknown>>>();

export default async function runJobInThread(task: ThreadTask): Promise<ThreadOutcome> {
  const post = (message: ThreadMessage) => task.port.postMessage(message);
  try {
    const run = await runOf(task.specifier, task.kind);
    if (task.mode === 'check') return { ok: true, value: null };
    const ctx: JobContext = {
      ...task.job,
      signal: threadSignal(task),
      progress: (fraction, message) =>
        post({ type: 'progress', fraction, ...(message === undefined ? {} : { message }) }),
      log: threadLogger(task),
    };
    const value = await run(task.input, ctx);
    // The result crosses by structured clone; anything not JSON is refused here, by path.
    const problem = jsonProblem(value);
    if (problem !== null)
      throw new PermanentJobError(`invalid result: ${problem}`, { code: 'invalid_result' });
    return { ok: true, value: toJsonValue(value) };
  } catch (error) {
    return { ok: false, error: encodeError(error) };
  } finally {
    post({ type: 'end' });
    task.port.close();
  }
}

async function runOf(specifier: string, kind: string): Promise<Run> {
  let loading = modules.get(specifier);
  if (loading === undefined) {
    loading = importModule(specifier);
    modules.set(specifier, loading);
    loading.catch(() => modules.delete(specifier));
  }
  const definition = exportedDefinition(await loading, kind);
  const run = (definition as { run?: unknown } | undefined)?.run;
  if (typeof run !== 'function')
    throw new PermanentJobError(`module ${specifier} has no job kind "${kind}" in a worker thread`, {
      code: 'kind_not_found',
    });
  return run.bind(definition) as Run;
}

/**
 * A TypeScript module reaches a thread through tsx's tsImport: on Node 20 a worker thread does
 * not inherit the loader hooks (`--import tsx`) the main thread runs with, so a plain import()
 * of a .ts file fails there with ERR_UNKNOWN_FILE_EXTENSION.
 */
async function importModule(specifier: string): Promise<Record<string, unknown>> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    const code: unknown =
      typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
    if (code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[cm]?tsx?$/.test(new URL(specifier).pathname))
      throw error;
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(specifier, import.meta.url)) as Record<string, unknown>;
  }
}

function threadLogger(task: ThreadTask): JobLogger {
  const log = (level: LogLevel) => (message: string, meta?: Record<string, unknown>) => {
    try {
      task.port.postMessage({
        type: 'log',
        level,
        message,
        ...(meta === undefined ? {} : { meta }),
      } satisfies ThreadMessage);
    } catch {
      // meta that cannot be cloned (a function, a socket) travels as its JSON form.
      task.port.postMessage({ type: 'log', level, message, meta: jsonMeta(meta) } satisfies ThreadMessage);
    }
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function jsonMeta(meta: Record<string, unknown> | undefined): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(meta ?? {})) as Record<string, unknown>;
  } catch {
    return { meta: 'not serializable' };
  }
}

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')?.get;

/**
 * A signal that aborts when the pool aborts the task. The abort message only arrives when the
 * thread's event loop turns, which a CPU-bound loop never lets happen; so reading `aborted` (or
 * calling `throwIfAborted`) also checks the shared abort flag and takes the message synchronously.
 */
function threadSignal(task: ThreadTask): AbortSignal {
  const controller = new AbortController();
  const { signal } = controller;
  // The prototype's getter: `signal.aborted` itself is replaced below.
  const isAborted = () =>
    abortedGetter === undefined ? signal.aborted : abortedGetter.call(signal) === true;
  const flag = new Int32Array(task.abortFlag);
  const abort = (message: AbortMessage | undefined) => {
    if (isAborted()) return;
    controller.abort(
      message === undefined
        ? new PermanentJobError('job cancelled', { code: 'cancelled' })
        : decodeError(message.reason),
    );
  };
  const sync = () => {
    if (!isAborted() && Atomics.load(flag, 0) !== 0)
      abort(receiveMessageOnPort(task.port)?.message as AbortMessage | undefined);
  };
  task.port.on('message', (message: AbortMessage) => abort(message));
  if (abortedGetter !== undefined) {
    Object.defineProperty(signal, 'aborted', {
      get: () => {
        sync();
        return isAborted();
      },
    });
  }
  const throwIfAborted = signal.throwIfAborted.bind(signal);
  signal.throwIfAborted = () => {
    sync();
    throwIfAborted();
  };
  sync();
  return signal;
}
