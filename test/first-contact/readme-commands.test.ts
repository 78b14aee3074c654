import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './fresh-machine.js';
import { readmeCommands } from './readme-commands.js';

describe('readmeCommands', () => {
  it('takes the last code span of the first two list items above the first ## heading', () => {
    const readme = [
      '# Title',
      '',
      '- Start it (reads `.env`): `run start`',
      'Some prose with `code` that is not a list item.',
      '- Test it: `run test`',
      '- Third: `ignored`',
      '',
      '## Later',
      '- `not this`',
    ].join('\n');
    expect(readmeCommands(readme)).toEqual({ start: 'run start', test: 'run test' });
  });

  it('fails when the top of the README lost a command', () => {
    expect(() => readmeCommands('# Title\n\n- Start: `run start`\n\n## Later\n- `run test`\n')).toThrow(
      /found 1/,
    );
  });
});

describe("the repository's README commands", () => {
  const commands = readmeCommands(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));

  it('bootstrap the pinned pnpm instead of expecting one on PATH', () => {
    for (const command of [commands.start, commands.test]) {
      expect(command.split('&&').map((part) => part.trim().split(/\s+/)[0])).toEqual([
        './scripts/pnpm',
        './scripts/pnpm',
      ]);
      expect(command).toContain('install --frozen-lockfile');
    }
  });

  it('.ci/run ends by running exactly the README test command', () => {
    const script = readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8');
    const lines = script.split('\n').filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));
    expect(lines.at(-1)).toBe(commands.test);
  });
});
