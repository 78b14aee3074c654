// Builds the dashboard into dist/ui unless its sources are unchanged since the last build: the
// root `pnpm build` runs this after `tsc -b` on every `pnpm start` and `pnpm test`, and a Vite
// build takes seconds where a hash of the inputs takes milliseconds.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { build } from 'vite';

const dashboard = resolve(import.meta.dirname, '..');
const workspace = resolve(dashboard, '../..');
const outDir = join(dashboard, 'dist/ui');
const stampFile = join(outDir, '.source-hash');

/** Everything that goes into the bundle: our sources, the contracts we parse with, the versions. */
const inputs = [
  join(dashboard, 'src'),
  join(dashboard, 'index.html'),
  join(dashboard, 'vite.config.mjs'),
  join(dashboard, 'scripts'),
  join(dashboard, 'package.json'),
  join(workspace, 'packages/contracts/src'),
  join(workspace, 'pnpm-lock.yaml'),
];

function filesUnder(path) {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => filesUnder(join(path, name)));
}

function sourceHash() {
  const hash = createHash('sha256');
  for (const file of inputs.flatMap(filesUnder)) {
    hash.update(relative(workspace, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

const wanted = sourceHash();
const built = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
if (built === wanted && existsSync(join(outDir, 'index.html'))) {
  console.log('dashboard: up to date (dist/ui)');
} else {
  await build({ configFile: join(dashboard, 'vite.config.mjs') });
  writeFileSync(stampFile, `${wanted}\n`);
  console.log('dashboard: built into packages/dashboard/dist/ui');
}
