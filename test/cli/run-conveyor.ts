import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** The built bin, as `pnpm conveyor` and an installed package run it. */
export const CONVEYOR_BIN = join(__dirname, '../../packages/client/dist/cli/main.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (for --json runs). */
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Runs `conveyor <args>` as a child process against `env` (CONVEYOR_URL, CONVEYOR_API_KEY). */
export function conveyor(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CONVEYOR_BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({
          code,
          stdout,
          stderr,
          json: () => {
            try {
              return JSON.parse(stdout);
            } catch {
              throw new Error(`not JSON (exit ${code}):\n${stdout}\nstderr:\n${stderr}`);
            }
          },
        });
      },
    );
  });
}
