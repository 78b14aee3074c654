import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';

/** The checkout these tests run in: its committed files are what a newcomer would clone. */
export const REPO_ROOT = resolve(__dirname, '../..');

/** A scratch folder removed by `dispose()`. */
export interface Scratch {
  path: string;
  dispose(): void;
}

export function scratchDir(label: string): Scratch {
  const path = mkdtempSync(join(tmpdir(), `conveyor-${label}-`));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** `git clone` of the checkout: committed files only, as on a newcomer's machine. */
export function cloneCommitted(into: string): void {
  const result = spawnSync('git', ['clone', '--quiet', '--no-hardlinks', REPO_ROOT, into], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.status !== 0) throw new Error(`git clone ${REPO_ROOT} failed: ${result.stderr}`);
}

/**
 * A PATH with every program of this machine's PATH except `hidden` (pnpm, pnpx): a folder of
 * links to the first program of each name, so node, npm, git and sh stay where they were.
 */
export function pathWithout(hidden: readonly string[], binDir: string): string {
  mkdirSync(binDir, { recursive: true });
  const seen = new Set<string>(hidden);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      symlinkSync(join(dir, name), join(binDir, name));
    }
  }
  return binDir;
}

/**
 * The environment of a new user's shell: PATH, HOME and locale, nothing a package manager or a
 * CI system set for the test run itself (npm_*, PNPM_*, CI), plus `extra`.
 */
export function newUserEnv(path: string, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { PATH: path };
  for (const name of ['HOME', 'USER', 'LANG', 'TMPDIR', 'TEST_DATABASE_URL', 'TEST_AMQP_URL']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * A shell command running in its own process group, with its output kept. Every process it
 * starts inherits a marker variable, so stop() finds them all, even one that left the group.
 */
export class ShellProcess {
  private output = '';
  private readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly command: string,
    private readonly child: ChildProcess,
    private readonly marker: string,
  ) {
    const collect = (chunk: Buffer) => (this.output += chunk.toString('utf8'));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  /** Runs `command` with `sh -c` and stdin from /dev/null (no TTY), as a script or CI would. */
  static start(command: string, options: { cwd: string; env: Record<string, string> }): ShellProcess {
    const id = randomUUID();
    const env = { ...options.env, [MARKER]: id };
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: options.cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new ShellProcess(command, child, `${MARKER}=${id}`);
  }

  get text(): string {
    return this.output;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Waits for the command to end by itself; kills its whole group after `timeoutMs`. */
  async finished(timeoutMs: number): Promise<{ code: number | null; output: string }> {
    const timer = setTimeout(() => void this.stop(), timeoutMs);
    try {
      const { code } = await this.exit;
      return { code, output: this.output };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves with the first output match of `pattern`; fails if the command ends first. */
  async waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.output);
      if (match) return match;
      if (this.exited) throw new Error(`"${this.command}" ended before printing ${pattern}:\n${this.tail()}`);
      if (Date.now() > deadline)
        throw new Error(`"${this.command}" did not print ${pattern} in ${timeoutMs} ms:\n${this.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * SIGTERM to the whole process group (the shell, pnpm, the services it started) and to any
   * marked process outside it, then SIGKILL to whatever is left after `graceMs`. Resolves once
   * none remains (or 5 s after the SIGKILL: a zombie nobody reaps still shows up).
   */
  async stop(graceMs = 15_000): Promise<void> {
    const group = this.child.pid;
    if (group === undefined) return;
    const signalAll = (signal: NodeJS.Signals) => {
      signalGroup(group, signal);
      for (const pid of markedProcesses(this.marker)) signalProcess(pid, signal);
    };
    signalAll('SIGTERM');
    const killAt = Date.now() + graceMs;
    while ((groupAlive(group) || markedProcesses(this.marker).length > 0) && Date.now() < killAt + 5_000) {
      if (Date.now() > killAt) signalAll('SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  tail(lines = 40): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }
}

const MARKER = 'CONVEYOR_FIRST_CONTACT_RUN';

function signalGroup(group: number, signal: NodeJS.Signals): void {
  signalProcess(-group, signal);
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Processes whose environment holds `marker` (`NAME=value`), from /proc (Linux). */
function markedProcesses(marker: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return [];
  }
  return entries
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0);
    return true;
  } catch {
    return false;
  }
}
