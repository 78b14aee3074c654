/**
 * piscina's entry for our ES-module workers. piscina loads a worker's file with require() and
 * falls back to import() when that fails; on Node 20, a require() of an ES module that an import()
 * is still loading aborts the whole process (FATAL "v8::Module::IsGraphAsync must be used on an
 * instantiated module", seen once in CI, in a piscina worker). This CommonJS entry is required
 * without touching that path and loads the real module (workerData.module, a file URL) with
 * import() alone, once per thread.
 */
type TaskHandler = (task: unknown) => unknown;

let handler: Promise<TaskHandler> | undefined;

async function loadHandler(): Promise<TaskHandler> {
  const { workerData } = await import('node:worker_threads');
  const loaded = (await import((workerData as { module: string }).module)) as { default: TaskHandler };
  return loaded.default;
}

export = async function runTask(task: unknown): Promise<unknown> {
  handler ??= loadHandler();
  return (await handler)(task);
};
