import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inherited, parseDockerfile, stageNamed, words, type Dockerfile, type Stage } from './dockerfile.js';
import { replayStage, ReplayStepFailed } from './dockerfile-replay.js';
import {
  cloneCommitted,
  newUserEnv,
  pathWithout,
  REPO_ROOT,
  scratchDir,
  type Scratch,
} from './fresh-machine.js';

/** Packages only tests and builds use: none may reach an image. */
const DEV_ONLY = [
  's3rver',
  'koa',
  'csv-parse',
  '@conveyor/testkit',
  'typescript',
  'jest',
  '@swc/core',
  'eslint',
  'fast-check',
];
const SERVICES = readdirSync(join(REPO_ROOT, 'services')).sort();

/**
 * The environment of `docker build`'s RUN steps, approximated on this machine: a new user's
 * PATH without pnpm (the node image has none), no CI variable (pnpm asks before deleting
 * node_modules when it sees neither a TTY nor CI), and npm's global prefix inside the scratch
 * folder, so a `RUN npm install -g` cannot touch this machine.
 */
function buildEnv(scratch: string): Record<string, string> {
  const npmGlobal = join(scratch, 'npm-global');
  const path = pathWithout(['pnpm', 'pnpx'], join(scratch, 'bin'));
  return newUserEnv(`${join(npmGlobal, 'bin')}${delimiter}${path}`, { NPM_CONFIG_PREFIX: npmGlobal });
}

describe('replayStage', () => {
  let scratch: Scratch;
  beforeAll(() => (scratch = scratchDir('replay-unit')));
  afterAll(() => scratch.dispose());

  it('runs RUN steps without a TTY and without CI (even when the test run has CI set), and stops at the first failure', async () => {
    const saved = process.env.CI;
    process.env.CI = 'true';
    let env: Record<string, string>;
    try {
      env = buildEnv(scratch.path);
    } finally {
      if (saved === undefined) delete process.env.CI;
      else process.env.CI = saved;
    }
    writeFileSync(join(scratch.path, 'marker'), 'copied\n');
    const stage = stageNamed(
      parseDockerfile(
        [
          'FROM node AS build',
          'WORKDIR /work',
          'COPY marker ./',
          'RUN test "$(cat marker)" = copied && test ! -t 0 && test -z "${CI+set}" && touch checked',
          'RUN exit 3',
          'RUN touch never',
        ].join('\n'),
      ),
      'build',
    );
    const fsRoot = join(scratch.path, 'fs');
    const replay = replayStage(stage, {
      context: scratch.path,
      fsRoot,
      globalArgs: {},
      env,
      stepTimeoutMs: 10_000,
    });
    await expect(replay).rejects.toThrow(ReplayStepFailed);
    await expect(replay).rejects.toThrow(/line 5: RUN exit 3\nexit code 3/);
    expect(existsSync(join(fsRoot, 'work/checked'))).toBe(true);
    expect(existsSync(join(fsRoot, 'work/never'))).toBe(false);
  });
});

/**
 * No Docker engine runs here, so this proves infra/Dockerfile builds another way: its `build`
 * stage is replayed in a clone of the committed files, as `docker build` runs it (see
 * replayStage), and each service's runtime target is checked on what it copies from there: its
 * deployed folder holds production dependencies only and its CMD loads (a bad setting must give
 * the config error, not a missing module). The runtime stages themselves (apt-get install tini,
 * COPY --from) are not replayed; docker-compose.int.test.ts checks the targets compose builds.
 * About a minute: install from the pnpm store, the whole TypeScript build, one deploy a service.
 */
describe('infra/Dockerfile', () => {
  let scratch: Scratch;
  let dockerfile: Dockerfile;
  let fsRoot: string;

  beforeAll(async () => {
    scratch = scratchDir('dockerfile');
    const context = join(scratch.path, 'context');
    cloneCommitted(context);
    dockerfile = parseDockerfile(readFileSync(join(context, 'infra/Dockerfile'), 'utf8'));
    fsRoot = join(scratch.path, 'fs');
    await replayStage(stageNamed(dockerfile, 'build'), {
      context,
      fsRoot,
      globalArgs: dockerfile.globalArgs,
      env: buildEnv(scratch.path),
      stepTimeoutMs: 300_000,
    });
  }, 600_000);

  afterAll(() => scratch?.dispose());

  /** Where a target's `COPY --from=build <folder> <dest>` takes its folder from, on this machine. */
  const deployedFolder = (target: Stage): string => {
    const copies = target.instructions.filter(
      (i) => i.keyword === 'COPY' && words(i.args).includes('--from=build'),
    );
    const [copyFrom] = copies;
    if (copies.length !== 1 || !copyFrom)
      throw new Error(`target ${target.name}: expected one COPY --from=build, found ${copies.length}`);
    const paths = words(copyFrom.args).filter((word) => !word.startsWith('--'));
    return join(fsRoot, posix.resolve('/', paths[0] ?? ''));
  };

  it('has a runtime target for every service, each copying its deployed folder from the build stage', () => {
    const targets = dockerfile.stages.filter((stage) =>
      stage.instructions.some((i) => i.keyword === 'COPY' && words(i.args).includes('--from=build')),
    );
    expect(targets.map((stage) => stage.name).sort()).toEqual(SERVICES);
  });

  it.each(SERVICES)('%s: the deployed folder holds production dependencies only', (service) => {
    const folder = deployedFolder(stageNamed(dockerfile, service));
    expect(existsSync(join(folder, 'dist/main.js'))).toBe(true);
    const store = join(folder, 'node_modules/.pnpm');
    const installed = [
      ...readdirSync(store),
      ...readdirSync(join(folder, 'node_modules')),
      ...scoped(join(folder, 'node_modules')),
    ];
    const devOnly = DEV_ONLY.filter((name) =>
      installed.some((entry) => entry === name || entry.startsWith(`${name.replace('/', '+')}@`)),
    );
    expect(devOnly).toEqual([]);
    // The check would see them: the workspace's own packages are there, under the same naming.
    expect(installed.some((entry) => entry.startsWith('@conveyor+platform@'))).toBe(true);
  });

  it.each(SERVICES)('%s: its CMD loads every module it needs and stops at the configuration', (service) => {
    const target = stageNamed(dockerfile, service);
    const folder = deployedFolder(target);
    const cmd = inherited(dockerfile, target, 'CMD');
    if (!cmd) throw new Error(`target ${service} has no CMD`);
    const [file, ...args] = words(cmd.args);
    // LOG_LEVEL is every service's but the simulator's, SIMULATOR_PORT the simulator's alone.
    const badEnv = newUserEnv(process.env.PATH ?? '', {
      NODE_ENV: 'production',
      LOG_LEVEL: 'loud',
      SIMULATOR_PORT: 'none',
    });
    const started = spawnSync(file ?? '', args, {
      cwd: folder,
      env: badEnv,
      encoding: 'utf8',
      timeout: 30_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = `${started.stdout}${started.stderr}`;
    expect(output).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
    expect(output).toMatch(/invalid configuration/);
    expect(started.status).toBe(1);

    // piscina loads worker files by name at run time, outside main.js's import graph: the
    // *.worker.js files and the CommonJS entry that loads them, in the service's own dist and in
    // the dist of each workspace package deployed with it (the job kinds, the runtime).
    const workers = folder;
    const distFolders = [
      'dist',
      ...(existsSync(join(folder, 'node_modules/@conveyor'))
        ? readdirSync(join(folder, 'node_modules/@conveyor')).map((name) =>
            join('node_modules/@conveyor', name, 'dist'),
          )
        : []),
    ].filter((dist) => existsSync(join(folder, dist)));
    const workerFiles = distFolders.flatMap((dist) =>
      readdirSync(join(folder, dist), { recursive: true, encoding: 'utf8' })
        .filter((f) => /(\.worker\.js|esm-task\.cjs)$/.test(f))
        .map((f) => join(dist, f)),
    );
    if (service === 'consumer') expect(workerFiles.length).toBeGreaterThanOrEqual(3);
    if (workerFiles.length === 0) return;
    const imports = workerFiles
      .map((f) => `await import(${JSON.stringify(pathToFileURL(join(workers, f)).href)});`)
      .join('');
    const loaded = spawnSync(process.execPath, ['--input-type=module', '-e', `${imports} process.exit(0);`], {
      cwd: folder,
      env: badEnv,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(`${loaded.stdout}${loaded.stderr}`).toBe('');
    expect(loaded.status).toBe(0);
  });
});

/** `@scope+name` entries for the scoped packages linked at the top of node_modules. */
function scoped(nodeModules: string): string[] {
  return readdirSync(nodeModules)
    .filter((entry) => entry.startsWith('@'))
    .flatMap((scope) => readdirSync(join(nodeModules, scope)).map((name) => `${scope}+${name}@`));
}
