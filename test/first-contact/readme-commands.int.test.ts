import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createIsolatedEnv, waitFor, type IsolatedEnv } from '@conveyor/testkit';
import {
  cloneCommitted,
  newUserEnv,
  pathWithout,
  REPO_ROOT,
  ShellProcess,
  scratchDir,
  type Scratch,
} from './fresh-machine.js';
import { readmeCommands, type ReadmeCommands } from './readme-commands.js';

/**
 * Set in the clone's environment. The README's test command runs the whole suite, this file
 * included, so inside the clone it runs with a path filter that leaves this file out, and this
 * variable makes the file skip itself should a filter ever let it in: no recursion either way.
 */
const NESTED = 'CONVEYOR_README_CHECK_NESTED';
const PNPM_VERSION = /"packageManager":\s*"pnpm@([^"]+)"/.exec(
  readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'),
)?.[1];

/**
 * A newcomer's first contact, as the README tells it: a clone of the committed files, a PATH
 * with node, npm and git but no pnpm (corepack could not fetch one here), and the README's two
 * commands copied as written, with stdin from /dev/null. The first must bring the stack up
 * (the producer's /readyz answers 200: migrations and topology applied by the services); the
 * second must pass. The clone gets its own database schema, AMQP prefix and ports 0 through the
 * environment, so it never meets a running stack; everything it made is dropped afterwards.
 * The clone's install links from the machine's pnpm store (`pnpm store path`), so it takes
 * seconds; most of the minute or two this file takes is the clone's TypeScript build.
 */
(process.env[NESTED] ? describe.skip : describe)(
  "the README's first two commands on a machine without pnpm",
  () => {
    let scratch: Scratch;
    let clone: string;
    let isolated: IsolatedEnv;
    let env: Record<string, string>;
    let commands: ReadmeCommands;
    const running: ShellProcess[] = [];

    beforeAll(async () => {
      scratch = scratchDir('readme');
      clone = join(scratch.path, 'conveyor');
      cloneCommitted(clone);
      commands = readmeCommands(readFileSync(join(clone, 'README.md'), 'utf8'));
      isolated = await createIsolatedEnv('readme');
      const path = pathWithout(['pnpm', 'pnpx'], join(scratch.path, 'bin'));
      // LOG_FORMAT json and LOG_LEVEL info: the producer's "producer listening" line gives its port.
      env = newUserEnv(path, {
        ...isolated.env,
        LOG_FORMAT: 'json',
        LOG_LEVEL: 'info',
        PORT: '0',
        OPS_PORT: '0',
        [NESTED]: '1',
      });
    });

    afterAll(async () => {
      for (const shell of running) await shell.stop();
      await isolated?.dispose();
      scratch?.dispose();
    });

    it('runs them with no pnpm or pnpx on PATH', () => {
      const found = spawnSync('/bin/sh', ['-c', 'command -v pnpm || command -v pnpx'], {
        env,
        encoding: 'utf8',
      });
      expect(found.stdout).toBe('');
      expect(found.status).not.toBe(0);
      expect(
        spawnSync('/bin/sh', ['-c', 'node --version && npm --version && git --version'], { env }).status,
      ).toBe(0);
    });

    it('the first command installs the pinned pnpm and starts the stack: the producer answers /readyz', async () => {
      const stack = ShellProcess.start(commands.start, { cwd: clone, env });
      running.push(stack);
      const [line] = await stack.waitForOutput(/^\[producer\] .*"producer listening".*$/m, 240_000);
      const { port } = JSON.parse(line.slice(line.indexOf('{'))) as { port: number };
      let status = 0;
      await waitFor(
        'the producer /readyz answering 200',
        async () => {
          status = await fetch(`http://127.0.0.1:${port}/readyz`, {
            signal: AbortSignal.timeout(2_000),
          }).then(
            (response) => response.status,
            () => 0,
          );
          return status === 200;
        },
        { timeoutMs: 60_000 },
      );
      expect(status).toBe(200);
      expect(existsSync(join(clone, `.tools/pnpm-${PNPM_VERSION}/node_modules/pnpm/bin/pnpm.cjs`))).toBe(
        true,
      );
      await stack.stop();
      expect(stack.exited).toBe(true);
    }, 300_000);

    it('the second command passes (the contracts package only: the whole suite would run this file again)', async () => {
      expect(commands.test).toMatch(/ test$/);
      const tests = ShellProcess.start(`${commands.test} packages/contracts`, { cwd: clone, env });
      running.push(tests);
      const { code, output } = await tests.finished(240_000);
      expect(output).toMatch(/Tests:\s+\d+ passed, \d+ total/);
      expect(output).not.toMatch(/readme-commands/);
      expect(code).toBe(0);
    }, 300_000);
  },
);
