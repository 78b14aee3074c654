import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createIsolatedEnv, type IsolatedEnv } from '../harness.js';

const ROOT = resolve(__dirname, '../..');

/**
 * `pnpm worker <module>...` as a user runs it: module paths relative to where they stand
 * (INIT_CWD, which pnpm sets), a plain .mjs module and a TypeScript one, only those kinds hosted,
 * and a clean stop on SIGTERM.
 */
describe('pnpm worker <module>...', () => {
  let isolated: IsolatedEnv;

  beforeAll(async () => {
    isolated = await createIsolatedEnv('pnpmworker');
  });

  afterAll(async () => {
    await isolated.dispose();
  });

  it('hosts the named modules, and only them, until it is stopped', async () => {
    const child = spawn(process.execPath, ['scripts/worker.mjs', 'echo.mjs', 'spin.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ...isolated.env,
        LOG_LEVEL: 'info',
        OPS_PORT: '0',
        INIT_CWD: resolve(ROOT, 'test/fixtures/job-modules'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    const collect = (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));

    const started = await new Promise<string>((done, fail) => {
      const timer = setInterval(() => {
        const line = lines.find((l) => l.includes('consumer started'));
        if (line) {
          clearInterval(timer);
          done(line);
        } else if (child.exitCode !== null) {
          clearInterval(timer);
          fail(new Error(`the worker exited early:\n${lines.join('\n')}`));
        }
      }, 50);
    });
    expect(JSON.parse(started.slice(started.indexOf('{'))).kinds).toEqual(['echo', 'spin']);
    expect(lines.filter((l) => l.includes('job kind registered'))).toHaveLength(2);

    child.kill('SIGTERM');
    // The worker's own lines with the code, so a failed stop says why.
    expect({ code: await exited, lines }).toMatchObject({ code: 0 });
  }, 60_000);
});
