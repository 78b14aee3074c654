import { execFile } from 'node:child_process';
import { SLOW_SEMIPRIME } from '../harness.js';
import { startAuthStack, type AuthStack } from '../client/auth-stack.js';
import { CONVEYOR_BIN } from './run-conveyor.js';

/** ora's default spinner ("dots") and cli-progress's bar, as this CLI draws them. */
const SPINNER_FRAMES = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
const BAR = /[█░]{10,} \d+% \|/;

/**
 * `conveyor jobs submit --wait` in a pseudo-terminal (util-linux `script`), as a person sees it:
 * a spinner while queued, a live bar while running, the final job once it is done.
 */
describe('conveyor CLI on a terminal', () => {
  let stack: AuthStack;

  beforeAll(async () => {
    stack = await startAuthStack('clitty');
  });

  afterAll(() => stack.stop());

  const inTerminal = (command: string, { sized = true } = {}) =>
    new Promise<{ code: number; screen: string }>((resolve) => {
      execFile(
        'script',
        // A pty nobody sized is 0 columns wide: give it a size, as a terminal window has.
        ['-qec', sized ? `stty cols 100 rows 30; ${command}` : command, '/dev/null'],
        {
          env: {
            PATH: process.env.PATH ?? '',
            TERM: 'xterm-256color',
            CONVEYOR_URL: stack.baseUrl,
            CONVEYOR_API_KEY: stack.operatorKey,
            // ora falls silent under CI unless told the stream is a terminal, which the CLI does.
            CI: 'true',
          },
          timeout: 30_000,
        },
        (error, stdout, stderr) =>
          resolve({
            code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
            screen: `${stdout}${stderr}${error && typeof error.code !== 'number' ? String(error) : ''}`,
          }),
      );
    });

  it('draws a spinner and a progress bar, then prints the job', async () => {
    const { code, screen } = await inTerminal(
      `node ${CONVEYOR_BIN} jobs submit factorize --input '{"number":"${SLOW_SEMIPRIME.n}"}' --wait`,
    );
    if (code !== 0) throw new Error(`exit ${code}:\n${screen}`);
    expect(screen).toMatch(SPINNER_FRAMES);
    expect(screen).toMatch(BAR);
    expect(screen).toMatch(/status: {4}succeeded/);
    // The frames are redrawn in place (carriage returns / erase-line), not printed as lines.
    expect(screen).toMatch(/\r|\x1b\[2K|\x1b\[\d*G/); // eslint-disable-line no-control-regex
  });

  it('prints plain lines on a terminal of no width, where a live display cannot be drawn', async () => {
    const { code, screen } = await inTerminal(
      `node ${CONVEYOR_BIN} jobs submit factorize --input '{"number":"1234"}' --wait`,
      { sized: false },
    );
    expect(code).toBe(0);
    expect(screen).not.toMatch(SPINNER_FRAMES);
    expect(screen).toMatch(/ (queued|succeeded) \d+%/);
  });
});
