/**
 * piscina's entry for job threads. piscina loads a worker's file with require() and falls back
 * to import() when that fails; on Node 20, a require() of an ES module that an import() is still
 * loading can abort the whole process (see services/consumer's esm-task.cts). This CommonJS entry
 * is required without that path and loads the ES module beside it with import() alone, once per
 * thread.
 */
type TaskHandler = (task: unknown) => unknown;

let handler: Promise<TaskHandler> | undefined;

async function loadHandler(): Promise<TaskHandler> {
  const { pathToFileURL } = await import('node:url');
  const { join } = await import('node:path');
  const loaded = (await import(pathToFileURL(join(__dirname, 'job-thread.js')).href)) as {
    default: TaskHandler;
  };
  return loaded.default;
}

export = async function runTask(task: unknown): Promise<unknown> {
  handler ??= loadHandler();
  return (await handler)(task);
};
