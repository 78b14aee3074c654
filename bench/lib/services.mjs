// The services under test as child processes: `node services/<name>/dist/main.js`, their output
// collected, stopped gracefully, and never left running after the bench exits.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from './deps.mjs';
import { opsAgent, request } from './http.mjs';

const children = new Set();

/** Fails early, with the build command, when a service has not been built. */
export function assertBuilt(services, buildCommand) {
  for (const service of services) {
    if (!existsSync(resolve(ROOT, 'services', service, 'dist/main.js'))) {
      throw new Error(`services/${service}/dist/main.js is missing: build first (${buildCommand})`);
    }
  }
}

/** `BENCH_ENV_X=v` in the bench's environment sets `X=v` in every service it starts (for trying a setting). */
function forwardedEnv() {
  return Object.fromEntries(
    Object.entries(process.env)
      .filter(([name]) => name.startsWith('BENCH_ENV_'))
      .map(([name, value]) => [name.slice('BENCH_ENV_'.length), value]),
  );
}

/**
 * Starts a service with `env` (the isolation's serviceEnv plus the run's settings) and `nodeArgs`
 * (e.g. --cpu-prof). The handle keeps the last 200 output lines and counts warn / error lines.
 */
export function startService(service, env, nodeArgs = []) {
  return startProcess(
    service,
    process.execPath,
    [...nodeArgs, resolve(ROOT, 'services', service, 'dist/main.js')],
    {
      LOG_LEVEL: 'warn',
      LOG_FORMAT: 'json',
      ...env,
      ...forwardedEnv(),
    },
  );
}

/**
 * Starts any program as a child of the bench (a peer system's process, a private redis-server),
 * in the repository with PATH, HOME and `env` only. Its handle is the one startService() gives: it
 * is stopped by stopService() and stopAllServices(), and killed when the bench exits.
 */
export function startProcess(name, command, args, env = {}) {
  const child = spawn(command, args, {
    cwd: ROOT,
    // The services read .env in the cwd as defaults; every variable that matters is set here and wins.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const handle = {
    service: name,
    child,
    pid: child.pid,
    lines: [],
    warnings: 0,
    errors: 0,
    exited: once(child, 'exit'),
  };
  const collect = (chunk) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      if (/"level":"warn"/.test(line)) handle.warnings += 1;
      if (/"level":"(warn|error)"/.test(line)) handle.firstWarning ??= line.slice(0, 300);
      if (/"level":"error"/.test(line)) handle.errors += 1;
      handle.lines.push(line);
      if (handle.lines.length > 200) handle.lines.shift();
    }
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  children.add(handle);
  child.once('exit', () => children.delete(handle));
  return handle;
}

/** SIGTERM (the service drains and closes), SIGKILL if it is still there after 15 s. */
export async function stopService(handle) {
  if (handle.child.exitCode !== null || handle.child.signalCode !== null) return;
  handle.child.kill('SIGTERM');
  const stopped = await Promise.race([handle.exited.then(() => true), sleep(15_000).then(() => false)]);
  if (!stopped) {
    handle.child.kill('SIGKILL');
    await handle.exited;
  }
}

/** Stops every service still running (clean-up: errors ignored). */
export async function stopAllServices() {
  await Promise.all([...children].map((handle) => stopService(handle).catch(() => undefined)));
}

/** Throws, with its last output lines, if the service has exited: a figure from a dead service means nothing. */
export function assertAlive(handle) {
  if (handle.child.exitCode !== null || handle.child.signalCode !== null) {
    throw new Error(
      `${handle.service} exited (${handle.child.exitCode ?? handle.child.signalCode}):\n${handle.lines.slice(-20).join('\n')}`,
    );
  }
}

/** Polls GET `path` until it answers `wanted` (e.g. /readyz 200), failing at once if the service exits. */
export async function waitForStatus(handle, port, path, wanted, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    assertAlive(handle);
    try {
      const { status } = await request(opsAgent, port, 'GET', path, undefined, 2_000);
      if (status === wanted) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(
        `${handle.service} did not answer ${wanted} on ${path} within ${timeoutMs} ms:\n${handle.lines.slice(-20).join('\n')}`,
      );
    await sleep(100);
  }
}

/** Waits until the process has printed a line matching `pattern` (its own "ready"), failing at once if it exits. */
export async function waitForLine(handle, pattern, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!handle.lines.some((line) => pattern.test(line))) {
    assertAlive(handle);
    if (Date.now() > deadline)
      throw new Error(
        `${handle.service} printed no line matching ${pattern} within ${timeoutMs} ms:\n${handle.lines.slice(-20).join('\n')}`,
      );
    await sleep(50);
  }
}

/**
 * Readiness is the broker connection; consuming starts right after it. Waits (≤ ~10 s) until
 * `queue` has a consumer, else throws `${who} never subscribed to ${what}`.
 */
export async function waitForSubscriber(channel, queue, who, what) {
  for (let i = 0; (await channel.checkQueue(queue)).consumerCount === 0; i += 1) {
    if (i > 100) throw new Error(`${who} never subscribed to ${what}`);
    await sleep(100);
  }
}

// Last resort: a synchronous SIGKILL of whatever is left when this process exits.
process.on('exit', () => {
  for (const handle of children) handle.child.kill('SIGKILL');
});
