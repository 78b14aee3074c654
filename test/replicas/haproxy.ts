import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@conveyor/testkit';

/** What HAProxy's stats CSV says of one server of the backend. */
export interface BackendServerState {
  name: string;
  /** UP, DOWN, "UP 1/2" and the like while a check is changing its mind. */
  status: string;
  /** Sessions (requests, in http mode with keep-alive) this server has taken. */
  sessions: number;
}

/**
 * A private HAProxy in front of several HTTP servers, as a load balancer in production would
 * be: round-robin, `GET /healthz` checked every 200 ms (two failures take a server out), and
 * a request that cannot connect is retried on another server (`option redispatch`), so only
 * the requests in flight on a server at the moment it dies can fail. Needs the `haproxy`
 * program (Debian: `apt-get install haproxy`); `.ci/run` installs it.
 */
export class HaproxyBalancer {
  readonly lines: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    /** The port clients send requests to. */
    readonly port: number,
    private readonly statsPort: number,
    private readonly exit: Promise<void>,
  ) {}

  static async start(backends: readonly number[]): Promise<HaproxyBalancer> {
    const program = haproxyProgram();
    // A port found free may be taken before HAProxy binds it: try again with others then.
    for (let attempt = 1; ; attempt++) {
      const [port, statsPort] = [await freePort(), await freePort()];
      const balancer = HaproxyBalancer.spawn(program, backends, port, statsPort);
      try {
        await waitFor('haproxy listening', () => balancer.exited || isListening(port), { timeoutMs: 10_000 });
        if (!balancer.exited) return balancer;
      } catch (error) {
        await balancer.stop();
        throw error;
      }
      await balancer.stop();
      if (attempt === 3) throw new Error(`haproxy did not start:\n${balancer.lines.join('\n')}`);
    }
  }

  private static spawn(
    program: string,
    backends: readonly number[],
    port: number,
    statsPort: number,
  ): HaproxyBalancer {
    const dir = mkdtempSync(join(tmpdir(), 'conveyor-haproxy-'));
    const config = join(dir, 'haproxy.cfg');
    writeFileSync(config, haproxyConfig(backends, port, statsPort));
    // -db: stay in the foreground, so the test owns the process and its log.
    const child = spawn(program, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const balancer = new HaproxyBalancer(child, dir, port, statsPort, exit);
    const collect = (chunk: Buffer) =>
      balancer.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    return balancer;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** The servers of the backend as HAProxy sees them, in the order given to start(). */
  async servers(): Promise<BackendServerState[]> {
    const response = await fetch(`http://127.0.0.1:${this.statsPort}/stats;csv`, {
      signal: AbortSignal.timeout(5_000),
    });
    const [header, ...rows] = (await response.text()).split('\n').filter(Boolean);
    const columns = header!.replace(/^# /, '').split(',');
    const at = (row: string[], column: string) => row[columns.indexOf(column)] ?? '';
    return rows
      .map((line) => line.split(','))
      .filter((row) => at(row, 'pxname') === 'producers' && /^s\d+$/.test(at(row, 'svname')))
      .map((row) => ({
        name: at(row, 'svname'),
        status: at(row, 'status'),
        sessions: Number(at(row, 'stot')),
      }));
  }

  /** SIGTERM (HAProxy's hard stop), then its files go. */
  async stop(): Promise<void> {
    if (!this.exited) this.child.kill('SIGTERM');
    await this.exit;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The haproxy on PATH, or Debian's in /usr/sbin (not on an ordinary user's PATH). */
function haproxyProgram(): string {
  for (const program of ['haproxy', '/usr/sbin/haproxy']) {
    const run = spawnSync(program, ['-v'], { encoding: 'utf8' });
    if (!run.error && run.status === 0) return program;
  }
  throw new Error('haproxy is not installed (Debian: apt-get install haproxy; .ci/run installs it)');
}

function haproxyConfig(backends: readonly number[], port: number, statsPort: number): string {
  return `
global
  log stderr format raw local0 notice
  maxconn 2000

defaults
  mode http
  log global
  option log-health-checks
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  # A loaded machine may take a while to answer a check; a dead server refuses at once.
  timeout check 2s
  # A refused connection (the server is gone) is tried again, the last time on another server.
  retries 2
  option redispatch

frontend api
  bind 127.0.0.1:${port}
  default_backend producers

backend producers
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
  default-server inter 200 fall 2 rise 2
${backends.map((backend, i) => `  server s${i} 127.0.0.1:${backend} check`).join('\n')}

listen stats
  bind 127.0.0.1:${statsPort}
  stats enable
  stats uri /stats
`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
