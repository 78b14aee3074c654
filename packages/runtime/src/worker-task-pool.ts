import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';

/** What every pooled task receives besides its own fields: a stop flag and a progress port. */
export interface PooledTaskControl {
  /** Int32Array view: 0 = run, anything else = stop. The worker polls it between steps. */
  stopFlag: SharedArrayBuffer;
  progressPort: MessagePort;
}

export interface TaskProgress {
  fraction: number;
  message: string;
}

/**
 * A piscina pool for one kind of CPU-heavy work. Stopping is cooperative: aborting `signal`
 * raises a flag in shared memory that the worker polls, so it can stop cleanly mid-task.
 */
export class WorkerTaskPool<Task extends object, Outcome> {
  private readonly pool: Piscina;

  /** `worker`: the compiled worker module's path (see compiledSibling). */
  constructor(options: { worker: string; threads: number }) {
    this.pool = new Piscina({
      // The worker module is loaded through a CommonJS entry (see esm-task.cts, beside this file).
      filename: compiledSibling(import.meta.url, 'esm-task.cjs'),
      workerData: { module: pathToFileURL(options.worker).href },
      minThreads: 1,
      maxThreads: options.threads,
      // One task per thread: queueing belongs in RabbitMQ (prefetch), not in here.
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
    });
  }

  async run(
    task: Task,
    options: { signal: AbortSignal; onProgress: (p: TaskProgress) => void },
  ): Promise<Outcome> {
    const stopFlag = new SharedArrayBuffer(4);
    const stop = () => Atomics.store(new Int32Array(stopFlag), 0, 1);
    if (options.signal.aborted) stop();
    options.signal.addEventListener('abort', stop, { once: true });
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (progress: TaskProgress) => options.onProgress(progress));
    try {
      const control: PooledTaskControl = { stopFlag, progressPort: port2 };
      return (await this.pool.run({ ...task, ...control }, { transferList: [port2] })) as Outcome;
    } finally {
      options.signal.removeEventListener('abort', stop);
      port1.close();
    }
  }

  /** Tasks the worker threads have finished (for metrics and tests). */
  get completed(): number {
    return this.pool.completed;
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

/**
 * The compiled file `name` beside the module at `moduleUrl`: piscina loads worker files by path at
 * run time. From a built module it sits in the same folder; from a source module run by the tests
 * (under src/) it is in the package's dist/, which `pnpm test` builds first.
 */
export function compiledSibling(moduleUrl: string, name: string): string {
  for (const candidate of [`./${name}`, `../dist/${name}`]) {
    const path = fileURLToPath(new URL(candidate, moduleUrl));
    if (existsSync(path)) return path;
  }
  throw new Error(`${name} not found beside ${moduleUrl} nor in its package's dist/: build it (tsc -b)`);
}
