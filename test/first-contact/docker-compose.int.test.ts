import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inherited, parseDockerfile, stageNamed, words } from './dockerfile.js';
import { REPO_ROOT } from './fresh-machine.js';

interface ComposeService {
  build?: { dockerfile?: string; target?: string };
  healthcheck?: { test?: string[] | string; disable?: boolean };
  init?: boolean;
  stop_grace_period?: string;
}

/**
 * docker-compose (the Debian package, which .ci/run installs) or the `docker compose` plugin.
 * Neither needs a Docker engine to read and validate a compose file.
 */
function composeCommand(): string[] {
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose'];
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0)
    return ['docker', 'compose'];
  throw new Error(
    'neither docker-compose nor `docker compose` is installed (Debian: apt-get install docker-compose; .ci/run does it)',
  );
}

function compose(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const [file = '', ...rest] = composeCommand();
  const result = spawnSync(file, [...rest, '-f', 'docker-compose.yml', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The file as compose resolves it (anchors merged, defaults applied). The compose v2 plugin
 * prints JSON itself; docker-compose 1.x prints YAML (and its usage, with status 0, for
 * `--format`), read here with the PyYAML it depends on.
 */
function resolvedServices(): Record<string, ComposeService> {
  const parse = (text: string) => (JSON.parse(text) as { services: Record<string, ComposeService> }).services;
  const json = compose(['config', '--format', 'json']);
  if (json.status === 0 && json.stdout.trimStart().startsWith('{')) return parse(json.stdout);
  const yaml = compose(['config']);
  if (yaml.status !== 0) throw new Error(`docker-compose config failed: ${yaml.stderr}`);
  const converted = spawnSync(
    'python3',
    ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: yaml.stdout, encoding: 'utf8' },
  );
  if (converted.status !== 0)
    throw new Error(`could not read docker-compose config output: ${converted.stderr}`);
  return parse(converted.stdout);
}

/** Compose durations: `30s`, `1m30s`, `1500ms`. */
function durationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1, us: 0.001 };
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us)/g))
    total += Number(amount) * (units[unit ?? ''] ?? Number.NaN);
  return total;
}

/** A default read from source, so the test follows the code rather than a copied number. */
function sourceDefaultMs(file: string, pattern: RegExp): number {
  const match = pattern.exec(readFileSync(join(REPO_ROOT, file), 'utf8'));
  if (!match?.[1]) throw new Error(`${file}: no match for ${pattern}`);
  return Number(match[1].replace(/_/g, ''));
}

describe('docker-compose.yml', () => {
  it('passes `docker-compose -f docker-compose.yml config -q`', () => {
    const result = compose(['config', '-q']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  describe('as compose resolves it', () => {
    let services: Record<string, ComposeService>;
    let built: [string, ComposeService][];
    const dockerfile = parseDockerfile(readFileSync(join(REPO_ROOT, 'infra/Dockerfile'), 'utf8'));

    beforeAll(() => {
      services = resolvedServices();
      built = Object.entries(services).filter(([, service]) => service.build !== undefined);
    });

    it('gives every service a health check', () => {
      const without = Object.entries(services)
        .filter(([, service]) => !service.healthcheck?.test || service.healthcheck.disable)
        .map(([name]) => name);
      expect(without).toEqual([]);
    });

    it('builds each Conveyor service from its own infra/Dockerfile target, whose PID 1 is an init (tini) unless compose adds one', () => {
      expect(built.map(([name]) => name).sort()).toEqual([
        'cleanup',
        'consumer',
        'notifier',
        'producer',
        'tester',
      ]);
      for (const [name, service] of built) {
        expect({ name, dockerfile: service.build?.dockerfile }).toEqual({
          name,
          dockerfile: 'infra/Dockerfile',
        });
        const target = stageNamed(dockerfile, service.build?.target ?? '');
        const entrypoint = words(inherited(dockerfile, target, 'ENTRYPOINT')?.args ?? '[]');
        expect({ name, init: service.init === true || /(^|\/)tini$/.test(entrypoint[0] ?? '') }).toEqual({
          name,
          init: true,
        });
      }
    });

    it("lets the Conveyor services finish a graceful stop: stop_grace_period beyond the consumer's handler grace plus its server close", () => {
      const handlerGraceMs = sourceDefaultMs(
        'packages/broker/src/message-consumer.ts',
        /shutdownGraceMs \?\? ([\d_]+)/,
      );
      const serverCloseMs = sourceDefaultMs(
        'packages/platform/src/http-server.ts',
        /export function closeServer\(server: Server, graceMs = ([\d_]+)\)/,
      );
      for (const [name, service] of built) {
        expect({
          name,
          graceMs: durationMs(service.stop_grace_period ?? '10s') > handlerGraceMs + serverCloseMs,
        }).toEqual({ name, graceMs: true });
      }
    });
  });
});
