import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { decodeError, encodeError } from './error-transfer.js';
import type { JobContext } from './job-definition.js';
import { abortError } from './job-errors.js';
import type { LoadedJobKind } from './job-module.js';
import type runJobInThread from './job-thread.js';
import type { AbortMessage, ThreadMessage, ThreadOutcome, ThreadTask } from './thread-protocol.js';

export interface JobThreadPoolOptions {
  /** Worker threads at most; a job waits for a free one. */
  threads: number;
  /**
   * How long a run may take to stop once its signal aborted before its thread is terminated
   * (a run that never looks at the signal); default 5000 ms.
   */
  abortGraceMs?: number;
  /** Threads idle this long are ended; default 60 000 ms. */
  idleTimeoutMs?: number;
  /** The compiled thread entry (job-thread-entry.cjs); found beside this module by default. */
  entry?: string;
}

/**
 * Worker threads for `isolation: 'thread'` kinds, so that a CPU-bound run stalls neither the
 * event loop (the AMQP heartbeat) nor other kinds. A thread imports each job module once, by
 * its specifier; progress and log calls come back over a MessagePort.
 */
export class JobThreadPool {
  private readonly pool: Piscina<
    Parameters<typeof runJobInThread>[0],
    Awaited<ReturnType<typeof runJobInThread>>
  >;
  private readonly abortGraceMs: number;

  constructor(options: JobThreadPoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1)
      throw new RangeError(`threads must be an integer >= 1 (got ${options.threads})`);
    this.abortGraceMs = options.abortGraceMs ?? 5000;
    this.pool = new Piscina({
      filename: options.entry ?? defaultEntry(),
      minThreads: 0,
      maxThreads: options.threads,
      // One job per thread: a second one would wait behind a CPU-bound first anyway.
      concurrentTasksPerWorker: 1,
      idleTimeout: options.idleTimeoutMs ?? 60_000,
    });
  }

  /**
   * Runs `kind`'s `run` in a thread and returns its result. When `ctx.signal` aborts, the thread's
   * signal aborts too; a run still going after abortGraceMs has its thread terminated, and the
   * promise rejects with the signal's reason. Errors keep name, message, code, permanent and
   * retryAfterMs, so classifyJobError reads them as on the main thread.
   */
  async run(kind: LoadedJobKind, input: unknown, ctx: JobContext): Promise<unknown> {
    return this.submit('run', kind, input, ctx);
  }

  /** Imports `kind`'s module in a thread and finds the kind there: a host checks its thread kinds at start. */
  async preload(kind: LoadedJobKind): Promise<void> {
    const signal = new AbortController().signal;
    const ignore = () => undefined;
    await this.submit('check', kind, null, {
      jobId: 'preload',
      customId: null,
      attempt: 1,
      signal,
      progress: ignore,
      log: { debug: ignore, info: ignore, warn: ignore, error: ignore },
    });
  }

  private async submit(
    mode: ThreadTask['mode'],
    kind: LoadedJobKind,
    input: unknown,
    ctx: JobContext,
  ): Promise<unknown> {
    if (ctx.signal.aborted) throw abortError(ctx.signal);
    const { port1, port2 } = new MessageChannel();
    const abortFlag = new SharedArrayBuffer(4);
    const terminate = new AbortController();
    let grace: NodeJS.Timeout | undefined;
    const onAbort = () => {
      // The message first, then the flag: a thread that sees the flag finds the reason queued.
      port1.postMessage({ type: 'abort', reason: encodeError(ctx.signal.reason) } satisfies AbortMessage);
      Atomics.store(new Int32Array(abortFlag), 0, 1);
      grace = setTimeout(() => terminate.abort(), this.abortGraceMs);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const ended = new Promise<void>((resolve) => {
      port1.on('message', (message: ThreadMessage) => {
        if (message.type === 'end') resolve();
        else forward(message, ctx);
      });
      port1.once('close', () => resolve());
    });
    const task: ThreadTask = {
      mode,
      specifier: kind.specifier,
      kind: kind.kind,
      input,
      job: { jobId: ctx.jobId, customId: ctx.customId, attempt: ctx.attempt },
      port: port2,
      abortFlag,
    };
    try {
      let outcome: ThreadOutcome;
      try {
        outcome = await this.pool.run(task, { transferList: [port2], signal: terminate.signal });
      } catch (error) {
        if (terminate.signal.aborted) throw abortError(ctx.signal);
        throw error;
      }
      // Progress and log travel on their own port: wait for the last of them before settling.
      await ended;
      if (outcome.ok) return outcome.value;
      throw decodeError(outcome.error);
    } finally {
      clearTimeout(grace);
      ctx.signal.removeEventListener('abort', onAbort);
      port1.close();
    }
  }

  /** Ends the threads; runs still going are terminated. */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

function forward(message: Exclude<ThreadMessage, { type: 'end' }>, ctx: JobContext): void {
  // A host callback that throws must not take down the process from inside an event handler.
  try {
    switch (message.type) {
      case 'progress':
        ctx.progress(message.fraction, message.message);
        break;
      case 'log':
        ctx.log[message.level](message.message, message.meta);
        break;
    }
  } catch {
    // Dropped: progress and logs are best effort.
  }
}

/**
 * The compiled entry sits beside this module in dist/. When this module runs from its
 * TypeScript source (jest compiles it on the fly), the entry comes from the package's build.
 */
function defaultEntry(): string {
  for (const candidate of ['./job-thread-entry.cjs', '../dist/job-thread-entry.cjs']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(
    '@conveyor/worker: job-thread-entry.cjs not found; build the package (tsc -b packages/worker)',
  );
}
