/** The README's first two commands, as a newcomer copies them. */
export interface ReadmeCommands {
  /** Starts the whole stack. */
  start: string;
  /** Runs every test. */
  test: string;
}

/**
 * The commands in the first two list items above the README's first `##` heading that hold a
 * `code span` (the item's last one): the start command, then the test command. Throws when the top of the README no
 * longer has them, so a reworded README cannot silently skip the check.
 */
export function readmeCommands(readme: string): ReadmeCommands {
  const top = readme.split(/^## /m)[0] ?? '';
  const commands = top
    .split('\n')
    .filter((line) => /^\s*[-*] /.test(line))
    .map((line) => [...line.matchAll(/`([^`]+)`/g)].at(-1)?.[1])
    .filter((command): command is string => command !== undefined);
  const [start, test] = commands;
  if (start === undefined || test === undefined) {
    throw new Error(
      `README.md: expected two list items with a \`command\` above the first "## " heading, found ${commands.length}`,
    );
  }
  return { start, test };
}
