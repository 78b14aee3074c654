// `pnpm worker <module>...`: a worker process hosting those job modules, and only them
// (BUILT_IN_KINDS=true in the environment adds the built-in kinds). Modules may be TypeScript:
// the process, and its worker threads, load them through tsx.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const modules = process.argv.slice(2);
if (modules.length === 0) {
  console.error(
    'usage: pnpm worker <job module>... (paths to modules whose default export is a job definition)',
  );
  process.exit(2);
}
const consumer = new URL('../services/consumer/', import.meta.url);
const tsxLoader = pathToFileURL(createRequire(new URL('package.json', consumer)).resolve('tsx')).href;
// pnpm runs scripts from the workspace root; paths are the caller's, relative to where it stood.
const callerDir = process.env.INIT_CWD ?? process.cwd();
const env = {
  ...process.env,
  WORKER_MODULES: modules.map((module) => pathToFileURL(resolve(callerDir, module)).href).join(','),
  BUILT_IN_KINDS: process.env.BUILT_IN_KINDS ?? 'false',
  NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${tsxLoader}`.trim(),
};
const child = spawn(process.execPath, [fileURLToPath(new URL('dist/main.js', consumer))], {
  env,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
