import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's RabbitMQ scripts, called directly: the /usr/sbin wrappers switch to the rabbitmq user. */
const RABBITMQ_BIN = process.env.RABBITMQ_BIN ?? '/usr/lib/rabbitmq/bin';
/** The machine's Erlang cookie: nodes and rabbitmqctl must share it to talk. */
const MACHINE_COOKIE = process.env.RABBITMQ_ERLANG_COOKIE_FILE ?? '/var/lib/rabbitmq/.erlang.cookie';
const STARTUP_TIMEOUT_S = 90;

export interface RabbitNode {
  /** Erlang node name, `<name>@localhost`. */
  name: string;
  amqpPort: number;
  /** `amqp://guest:guest@127.0.0.1:<port>` (guest may connect over loopback). */
  url: string;
  /** The OS process of the node's Erlang VM while it runs. */
  pid: number | undefined;
  /** `http://guest:guest@127.0.0.1:<port>` when the management plugin is on (see RabbitClusterOptions). */
  managementUrl: string | undefined;
}

export interface RabbitClusterOptions {
  /** Enables rabbitmq_management on every node, on a free port of its own. Default false. */
  management?: boolean;
}

/**
 * A RabbitMQ cluster of this test's own beside the machine's broker: nodes started from Debian's
 * `rabbitmq-server` with their own names, ports and data folders and the machine's Erlang cookie,
 * joined with `rabbitmqctl join_cluster`. It never touches the machine's node (rabbit@localhost on
 * 5672). `kill` is a kill -9 of a node's VM, `restart` boots it again on its data folder, `dispose`
 * stops every node and removes the folder.
 */
export class RabbitCluster {
  private constructor(
    private readonly home: string,
    readonly nodes: RabbitNode[],
  ) {}

  /** Starts `size` nodes at once and joins the others to the first; resolves when all run clustered. */
  static async start(
    size = 3,
    label = 'cluster',
    options: RabbitClusterOptions = {},
  ): Promise<RabbitCluster> {
    const home = await mkdtemp(join(tmpdir(), 'conveyor-rabbit-'));
    // rabbitmqctl and the nodes read the cookie from $HOME; it must be private to its owner.
    await copyFile(MACHINE_COOKIE, join(home, '.erlang.cookie'));
    await chmod(join(home, '.erlang.cookie'), 0o400);
    const id = `${label.replace(/[^a-z0-9]/g, '').slice(0, 12)}${randomBytes(3).toString('hex')}`;
    const nodes: RabbitNode[] = [];
    for (let i = 1; i <= size; i++) {
      const amqpPort = await freePort();
      const managementPort = options.management ? await freePort() : undefined;
      nodes.push({
        name: `conveyor-${id}-${i}@localhost`,
        amqpPort,
        url: `amqp://guest:guest@127.0.0.1:${amqpPort}`,
        pid: undefined,
        managementUrl:
          managementPort === undefined ? undefined : `http://guest:guest@127.0.0.1:${managementPort}`,
      });
    }
    const cluster = new RabbitCluster(home, nodes);
    try {
      for (const node of nodes) await cluster.writeNodeFiles(node);
      await Promise.all(nodes.map((node) => cluster.boot(node)));
      const [first, ...others] = nodes;
      for (const node of others) {
        await cluster.ctl(node, 'stop_app');
        await cluster.ctl(node, 'join_cluster', first!.name);
        await cluster.ctl(node, 'start_app');
        await cluster.ctl(node, 'await_startup', '--timeout', String(STARTUP_TIMEOUT_S));
      }
    } catch (error) {
      await cluster.dispose();
      throw error;
    }
    return cluster;
  }

  /** Every node's URL, comma-separated: the form AMQP_URL takes. */
  get amqpUrl(): string {
    return this.nodes.map((node) => node.url).join(',');
  }

  /** kill -9 of the node's VM: no goodbye to its peers or its clients. */
  async kill(node: RabbitNode): Promise<void> {
    if (node.pid === undefined) return;
    const pid = node.pid;
    node.pid = undefined;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return; // already gone
    }
    for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  }

  /** Boots a killed node again on its data folder; it rejoins its cluster by itself. */
  async restart(node: RabbitNode): Promise<void> {
    await this.boot(node);
  }

  /** The node leading a quorum queue, by its name (`rabbitmq-queues quorum_status` reads it off any node). */
  async leaderOf(queue: string, vhost = '/'): Promise<RabbitNode | undefined> {
    const running = this.nodes.find((node) => node.pid !== undefined);
    if (!running) return undefined;
    const { stdout } = await this.ctl(
      running,
      'list_queues',
      '-p',
      vhost,
      '--quiet',
      '--no-table-headers',
      'name',
      'leader',
    );
    for (const line of stdout.split('\n')) {
      const [name, leader] = line.trim().split(/\s+/);
      if (name === queue) return this.nodes.find((node) => node.name === leader);
    }
    return undefined;
  }

  /** Names of the nodes the cluster reports running, as seen from `via`. */
  async runningNodes(via: RabbitNode): Promise<string[]> {
    const { stdout } = await this.ctl(via, 'cluster_status', '--formatter', 'json');
    return (JSON.parse(stdout) as { running_nodes: string[] }).running_nodes;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.nodes.map((node) => this.kill(node)));
    await rm(this.home, { recursive: true, force: true });
  }

  private folder(node: RabbitNode): string {
    return join(this.home, node.name.split('@')[0]!);
  }

  private async writeNodeFiles(node: RabbitNode): Promise<void> {
    const folder = this.folder(node);
    await mkdir(folder, { recursive: true });
    const distPort = await freePort();
    // The env file replaces /etc/rabbitmq/rabbitmq-env.conf, which names the machine's node.
    await writeFile(
      join(folder, 'rabbitmq-env.conf'),
      [
        `NODENAME=${node.name}`,
        `NODE_PORT=${node.amqpPort}`,
        `DIST_PORT=${distPort}`,
        `MNESIA_BASE=${join(folder, 'mnesia')}`,
        `LOG_BASE=${join(folder, 'log')}`,
        `ENABLED_PLUGINS_FILE=${join(folder, 'enabled_plugins')}`,
        `CONFIG_FILE=${join(folder, 'rabbitmq.conf')}`,
        'ERL_EPMD_ADDRESS=127.0.0.1',
        '',
      ].join('\n'),
    );
    const managementPort = node.managementUrl === undefined ? undefined : new URL(node.managementUrl).port;
    await writeFile(
      join(folder, 'enabled_plugins'),
      managementPort === undefined ? '[].\n' : '[rabbitmq_management].\n',
    );
    await writeFile(
      join(folder, 'rabbitmq.conf'),
      [
        `listeners.tcp.default = 127.0.0.1:${node.amqpPort}`,
        // A small machine: no disk alarm from a few GB free, no memory alarm from other tests.
        'disk_free_limit.absolute = 50MB',
        'vm_memory_high_watermark.relative = 0.8',
        ...(managementPort === undefined
          ? []
          : [
              `management.tcp.port = ${managementPort}`,
              'management.tcp.ip = 127.0.0.1',
              // Figures a test can wait for: every second instead of every 5 s.
              'collect_statistics_interval = 1000',
            ]),
        '',
      ].join('\n'),
    );
  }

  private env(node: RabbitNode): NodeJS.ProcessEnv {
    return {
      ...process.env,
      HOME: this.home,
      RABBITMQ_CONF_ENV_FILE: join(this.folder(node), 'rabbitmq-env.conf'),
    };
  }

  private async boot(node: RabbitNode): Promise<void> {
    await run(join(RABBITMQ_BIN, 'rabbitmq-server'), ['-detached'], { env: this.env(node) });
    // await_startup fails at once while the VM has not registered with epmd yet: try again.
    const deadline = Date.now() + STARTUP_TIMEOUT_S * 1000;
    for (;;) {
      try {
        await this.ctl(node, 'await_startup', '--timeout', String(STARTUP_TIMEOUT_S));
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    const { stdout } = await this.ctl(node, 'eval', 'os:getpid().');
    node.pid = Number(stdout.trim().replace(/"/g, ''));
  }

  private ctl(node: RabbitNode, ...args: string[]): Promise<{ stdout: string }> {
    return run(join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', node.name, ...args], {
      env: this.env(node),
      timeout: (STARTUP_TIMEOUT_S + 10) * 1000,
    });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A port free right now on 127.0.0.1 (the kernel picks it; it is released at once for the node to take). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
