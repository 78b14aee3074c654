// `pnpm bench <name> [options]` runs bench/<name>.bench.mjs; without a name it lists them.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .map((f) => f.replace('.bench.mjs', ''))
  .sort();
const [name, ...rest] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.log(
    `usage: pnpm bench <name> [options]\navailable: ${available.join(', ')}\nfigures and commands: docs/benchmarks.md`,
  );
  process.exit(name ? 2 : 0);
}
const { status } = spawnSync(process.execPath, [join(here, `${name}.bench.mjs`), ...rest], {
  stdio: 'inherit',
});
process.exit(status ?? 1);
