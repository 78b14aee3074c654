import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

/**
 * A service running as a real child process from its build (`dist/main.js`), so a test can
 * kill -9 it. Its JSON log lines are kept for assertions.
 */
export class ServiceProcess {
  readonly lines: string[] = [];
  private readonly exit: Promise<number | null>;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const collect = (chunk: Buffer) => this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }

  static start(service: string, env: Record<string, string>): ServiceProcess {
    const child = spawn(process.execPath, [resolve(ROOT, 'services', service, 'dist/main.js')], {
      cwd: ROOT,
      // No .env in the child's cwd lookups matter: the test's variables win over it anyway.
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServiceProcess(service, child);
  }

  /** True once the process has exited (of itself or killed). */
  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves once a log line matches (e.g. /consumer started/). */
  async waitForLog(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line) return line;
      if (this.child.exitCode !== null)
        throw new Error(
          `${this.name} exited (${this.child.exitCode}) before logging ${pattern}:\n${this.lines.join('\n')}`,
        );
      if (Date.now() > deadline)
        throw new Error(
          `${this.name} did not log ${pattern} in ${timeoutMs} ms:\n${this.lines.slice(-20).join('\n')}`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Resolves with the exit code once the process ends by itself (a refused start, say). */
  waitForExit(): Promise<number | null> {
    return this.exit;
  }

  /** kill -9: no shutdown hooks, no acks, sockets dropped by the kernel. */
  async kill9(): Promise<void> {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
    await this.exit;
  }

  /** SIGTERM and wait for a graceful exit. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    return this.exit;
  }
}
