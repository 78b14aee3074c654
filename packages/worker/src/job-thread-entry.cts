/**
 * piscina's entry for job threads. piscina loads a worker's file with require() and falls back
 * to import() when that fails; on Node 20, a require() of an ES module that an import() is still
 * loading can abort the whole process (see services/consumer's esm-task.cts). This CommonJS entry
 * is required without that path and loads the ES module beside it with import() alone, once per
 * thread.
 */
import type { ThreadOutcome, ThreadTask } from './thread-protocol.js';

let handler: Promise<(task: ThreadTask) => Promise<ThreadOutcome>> | undefined;

export = async function runTask(task: ThreadTask): Promise<ThreadOutcome> {
  handler ??= import('./job-thread.js').then((loaded) => loaded.default);
  return (await handler)(task);
};
