/**
 * A TCP proxy that injects real network faults between a service and a shared dependency
 * (RabbitMQ, PostgreSQL, S3) so integration tests can exercise failure paths without stopping
 * the brokers other tests use. Each accepted client socket is paired with a fresh connection
 * to the target; bytes are forwarded chunk by chunk so they can be delayed, held back or cut
 * at an exact byte count.
 */
import net from 'node:net';

export interface FaultProxyOptions {
  targetHost: string;
  targetPort: number;
  /** 0 (the default) picks an ephemeral port. */
  listenPort?: number;
}

/** downstream = target → client, upstream = client → target. */
export type ProxyDirection = 'downstream' | 'upstream';

const LISTEN_HOST = '127.0.0.1';

/** Bytes a direction may hold in memory (latency queue) before the proxy stops reading its source,
 * so a fast sender behind a slow or stalled proxy feels TCP back-pressure instead of filling RAM. */
const QUEUE_HIGH_WATER_BYTES = 1024 * 1024;

/** Sockets emit 'error' on resets we cause or forward; the close handlers deal with the outcome. */
const ignoreSocketError = (): void => {};

/** Closes with an RST so the peer sees ECONNRESET (a still-connecting socket resets once connected). */
function resetSocket(socket: net.Socket): void {
  if (!socket.destroyed) socket.resetAndDestroy();
}

type TripAction = 'reset' | 'stall';

/** A one-shot "after n bytes in this direction" fault. Bytes are counted per connection from the
 * moment it is armed; the first connection to reach the limit trips it. */
class ByteTripwire {
  private readonly forwardedBytes = new WeakMap<ProxiedConnection, number>();

  constructor(
    readonly direction: ProxyDirection,
    readonly limitBytes: number,
    readonly action: TripAction,
  ) {}

  bytesLeft(connection: ProxiedConnection): number {
    return this.limitBytes - (this.forwardedBytes.get(connection) ?? 0);
  }

  /** Counts forwarded bytes and answers whether the limit is now reached. */
  record(connection: ProxiedConnection, bytes: number): boolean {
    const total = (this.forwardedBytes.get(connection) ?? 0) + bytes;
    this.forwardedBytes.set(connection, total);
    return total >= this.limitBytes;
  }
}

/** The faults currently configured on a proxy; every connection consults it as bytes flow. */
class FaultState {
  latencyMs = 0;
  stalled = false;
  /** How many byte-count faults have fired, so a test can prove its faults really happened. */
  tripped = 0;
  private tripwires: ByteTripwire[] = [];

  arm(tripwire: ByteTripwire): void {
    this.tripwires.push(tripwire);
  }

  /** Bytes that may still flow in `direction` before some tripwire fires (Infinity if none). */
  bytesUntilTrip(connection: ProxiedConnection, direction: ProxyDirection): number {
    return Math.min(
      Infinity,
      ...this.tripwires.filter((t) => t.direction === direction).map((t) => t.bytesLeft(connection)),
    );
  }

  /** Counts forwarded bytes; returns the action of the tripwires that fired (a reset beats a stall). */
  recordForwarded(
    connection: ProxiedConnection,
    direction: ProxyDirection,
    bytes: number,
  ): TripAction | undefined {
    const tripped = this.tripwires.filter((t) => t.direction === direction && t.record(connection, bytes));
    if (tripped.length === 0) return undefined;
    this.tripped += tripped.length;
    this.tripwires = this.tripwires.filter((t) => !tripped.includes(t));
    return tripped.some((t) => t.action === 'reset') ? 'reset' : 'stall';
  }
}

/** An end-of-stream marker travels through the queue so a FIN is delayed like the data before it. */
interface QueuedChunk {
  data: Buffer | 'end';
  dueAt: number;
}

/** Forwards one direction of a connection pair, honouring latency, stalls and tripwires. */
class Forwarder {
  private readonly queue: QueuedChunk[] = [];
  private queuedBytes = 0;
  private waitingForDrain = false;
  private latencyTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly direction: ProxyDirection,
    private readonly source: net.Socket,
    private readonly destination: net.Socket,
    private readonly connection: ProxiedConnection,
  ) {
    source.on('data', (data: Buffer) => this.enqueue(data));
    source.on('end', () => this.enqueue('end'));
  }

  /** Delivers whatever is due; called whenever something that blocked delivery changes. */
  pump(): void {
    while (this.queue.length > 0 && this.canDeliver()) {
      const head = this.queue[0]!;
      const waitMs = head.dueAt - Date.now();
      if (waitMs > 0) {
        this.latencyTimer ??= setTimeout(() => {
          this.latencyTimer = undefined;
          this.pump();
        }, waitMs);
        break;
      }
      if (head.data === 'end') {
        this.queue.shift();
        this.destination.end();
        break;
      }
      this.forwardHead(head, head.data);
    }
    this.updateSourceFlow();
  }

  /** Stops timers; the sockets themselves are destroyed by the connection. */
  dispose(): void {
    clearTimeout(this.latencyTimer);
    this.latencyTimer = undefined;
  }

  private enqueue(data: Buffer | 'end'): void {
    this.queue.push({ data, dueAt: Date.now() + this.connection.faults.latencyMs });
    if (data !== 'end') this.queuedBytes += data.length;
    this.pump();
  }

  /** Writes the head chunk, or only the part that fits before a tripwire, then lets it fire. */
  private forwardHead(head: QueuedChunk, data: Buffer): void {
    const allowed = this.connection.faults.bytesUntilTrip(this.connection, this.direction);
    const outgoing = data.length <= allowed ? data : data.subarray(0, allowed);
    if (outgoing.length === data.length) this.queue.shift();
    else head.data = data.subarray(outgoing.length);
    this.queuedBytes -= outgoing.length;

    const action = this.connection.faults.recordForwarded(this.connection, this.direction, outgoing.length);
    // Stop forwarding at once on a trip; a reset waits until the allowed bytes reached the kernel,
    // which delivers them ahead of the RST unless the peer's receive window is full: like a real
    // cut, bytes still queued in our send buffer are then lost, so the peer gets at most n bytes.
    if (action !== undefined) this.connection.stall();
    const afterWrite = action === 'reset' ? () => this.connection.reset() : undefined;
    if (outgoing.length === 0) {
      afterWrite?.();
      return;
    }
    if (!this.destination.write(outgoing, afterWrite)) {
      this.waitingForDrain = true;
      this.destination.once('drain', () => {
        this.waitingForDrain = false;
        this.pump();
      });
    }
  }

  /** The source may already be closed: what it sent before its FIN is still delivered. */
  private canDeliver(): boolean {
    return !this.connection.isStalled() && !this.destination.destroyed && !this.waitingForDrain;
  }

  /** Reads from the source only while its bytes can go somewhere, propagating back-pressure. */
  private updateSourceFlow(): void {
    if (!this.canDeliver() || this.queuedBytes >= QUEUE_HIGH_WATER_BYTES) this.source.pause();
    else this.source.resume();
    // A stalled forwarder is pumped again by resume(), which re-arms the latency timer.
    if (this.connection.isStalled()) this.dispose();
  }
}

/** A client socket and its connection to the target. */
class ProxiedConnection {
  /** Resolves once both sockets have closed. */
  readonly closed: Promise<void>;
  private stalledByTripwire = false;
  private readonly forwarders: Forwarder[];

  constructor(
    private readonly client: net.Socket,
    private readonly target: net.Socket,
    readonly faults: FaultState,
  ) {
    this.forwarders = [
      new Forwarder('upstream', client, target, this),
      new Forwarder('downstream', target, client, this),
    ];
    this.closed = Promise.all([this.watchClose(client, target), this.watchClose(target, client)]).then(() =>
      this.forwarders.forEach((forwarder) => forwarder.dispose()),
    );
  }

  isStalled(): boolean {
    return this.stalledByTripwire || this.faults.stalled;
  }

  /** Holds this pair's traffic until resume(), regardless of the proxy-wide stall. */
  stall(): void {
    this.stalledByTripwire = true;
  }

  /** Clears a tripwire stall and re-checks both directions (also after a proxy-wide unstall). */
  resume(): void {
    this.stalledByTripwire = false;
    this.forwarders.forEach((forwarder) => forwarder.pump());
  }

  /** Both peers see ECONNRESET, like a network cut. */
  reset(): void {
    resetSocket(this.client);
    resetSocket(this.target);
  }

  /** Closes both sockets without a reset. */
  destroy(): void {
    this.client.destroy();
    this.target.destroy();
  }

  /** A failure on one side is passed on as a reset so the other peer sees the fault too; a clean
   * close needs nothing here because the FIN travels through the forwarder. */
  private watchClose(socket: net.Socket, peer: net.Socket): Promise<void> {
    socket.on('error', ignoreSocketError);
    return new Promise((resolve) => {
      socket.once('close', (hadError) => {
        if (hadError) resetSocket(peer);
        resolve();
      });
    });
  }
}

export class FaultProxy {
  readonly port: number;

  private readonly faults = new FaultState();
  private readonly connections = new Set<ProxiedConnection>();
  private refusingConnections = false;
  private connectionsToFail = 0;
  private stopped: Promise<void> | undefined;

  private constructor(
    private readonly server: net.Server,
    private readonly options: FaultProxyOptions,
  ) {
    this.port = (server.address() as net.AddressInfo).port;
    server.on('connection', (client) => this.accept(client));
    // Accept failures (e.g. EMFILE) only fail that client's connect; they must not crash the test run.
    server.on('error', ignoreSocketError);
  }

  static start(options: FaultProxyOptions): Promise<FaultProxy> {
    const server = net.createServer({ allowHalfOpen: true });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.listenPort ?? 0, LISTEN_HOST, () => {
        server.off('error', reject);
        resolve(new FaultProxy(server, options));
      });
    });
  }

  get url(): string {
    return `${LISTEN_HOST}:${this.port}`;
  }

  get activeConnections(): number {
    return this.connections.size;
  }

  /** Faults armed with resetAfterBytes / stallAfterBytes that have fired so far. */
  get faultsTripped(): number {
    return this.faults.tripped;
  }

  /** Resets every open connection and refuses new ones until restore(). */
  cut(): void {
    this.refusingConnections = true;
    this.resetAll();
  }

  restore(): void {
    this.refusingConnections = false;
  }

  /** Resets every open connection but keeps accepting new ones. */
  resetAll(): void {
    this.connections.forEach((connection) => connection.reset());
  }

  /** Keeps sockets open but forwards nothing, in both directions, like a hung peer. */
  stall(): void {
    this.faults.stalled = true;
  }

  /** Ends the proxy-wide stall and any stall left by stallAfterBytes(). */
  unstall(): void {
    this.faults.stalled = false;
    this.connections.forEach((connection) => connection.resume());
  }

  failNextConnections(count: number): void {
    this.connectionsToFail = count;
  }

  /** Resets the first connection (open now or later) to forward `bytes` more in `direction`. A peer that
   * reads slower than the target sends receives fewer: the kernel drops what it has not yet delivered. */
  resetAfterBytes(bytes: number, direction: ProxyDirection = 'downstream'): void {
    this.faults.arm(new ByteTripwire(direction, bytes, 'reset'));
  }

  /** Stalls the first connection (open now or later) to forward `bytes` more in `direction`, until unstall(). */
  stallAfterBytes(bytes: number, direction: ProxyDirection = 'downstream'): void {
    this.faults.arm(new ByteTripwire(direction, bytes, 'stall'));
  }

  /** Delays every chunk received from now on by `ms`; chunks never overtake each other. */
  setLatency(ms: number): void {
    this.faults.latencyMs = ms;
  }

  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.connections.forEach((connection) => connection.destroy());
    }).then(async () => {
      await Promise.all([...this.connections].map((connection) => connection.closed));
    });
    return this.stopped;
  }

  private accept(client: net.Socket): void {
    if (this.refusingConnections || this.connectionsToFail > 0) {
      if (!this.refusingConnections) this.connectionsToFail -= 1;
      client.on('error', ignoreSocketError);
      resetSocket(client);
      return;
    }
    const target = net.connect({
      host: this.options.targetHost,
      port: this.options.targetPort,
      allowHalfOpen: true,
    });
    const connection = new ProxiedConnection(client, target, this.faults);
    this.connections.add(connection);
    void connection.closed.then(() => this.connections.delete(connection));
  }
}
