import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobContext, JobLogger } from '@conveyor/worker';

/** Helpers for the package's tests: fixture paths, the built package, and a recording job context. */
export const packageDir = join(__dirname, '..');
export const fixturesDir = __dirname;

export function fixturePath(name: string): string {
  return join(fixturesDir, name);
}

export function fixtureUrl(name: string): string {
  return pathToFileURL(fixturePath(name)).href;
}

/**
 * Worker threads and plain `node` run the compiled package (jest compiles only what it loads
 * itself): fail clearly when dist/ is missing or older than a source, rather than test old code.
 * A build that found nothing to change only touches dist/.tsbuildinfo, so that counts as built too.
 */
export function builtPackageUrl(): string {
  const src = join(packageDir, 'src');
  const rebuild = 'build the package (pnpm exec tsc -b packages/worker)';
  const mtime = (path: string) => {
    try {
      return statSync(path).mtimeMs;
    } catch {
      throw new Error(`${path} is missing: ${rebuild}`);
    }
  };
  const lastBuild = mtime(join(packageDir, 'dist', '.tsbuildinfo'));
  for (const name of readdirSync(src)) {
    const match = /^(.*)\.(c?)ts$/.exec(name);
    if (match === null || name.endsWith('.test.ts')) continue;
    mtime(join(packageDir, 'dist', `${match[1]}.${match[2] === 'c' ? 'cjs' : 'js'}`));
    if (mtime(join(src, name)) > lastBuild)
      throw new Error(`src/${name} changed after the last build: ${rebuild}`);
  }
  return pathToFileURL(join(packageDir, 'dist', 'index.js')).href;
}

export interface RecordingContext extends JobContext {
  progressed: [number, string | undefined][];
  logged: { level: keyof JobLogger; message: string; meta?: Record<string, unknown> }[];
  controller: AbortController;
}

export function recordingContext(overrides: Partial<JobContext> = {}): RecordingContext {
  const controller = new AbortController();
  const progressed: RecordingContext['progressed'] = [];
  const logged: RecordingContext['logged'] = [];
  const logAt =
    (level: keyof JobLogger) =>
    (message: string, meta?: Record<string, unknown>): void => {
      logged.push(meta === undefined ? { level, message } : { level, message, meta });
    };
  return {
    jobId: 'job-1',
    customId: null,
    attempt: 1,
    signal: controller.signal,
    progress: (fraction, message) => progressed.push([fraction, message]),
    log: { debug: logAt('debug'), info: logAt('info'), warn: logAt('warn'), error: logAt('error') },
    progressed,
    logged,
    controller,
    ...overrides,
  };
}
