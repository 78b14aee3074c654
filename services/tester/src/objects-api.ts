/**
 * Simulates the upstream objects API our consumers query: `GET /objects/:id` answers whether the
 * object is online, after an unpredictable delay. Thousands of these slow requests are in flight at
 * once during a run, so the server keeps connections alive and limits nothing per connection.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ObjectsApiOptions {
  /** 0 picks an ephemeral port. */
  port: number;
  /** Defaults to every interface. */
  host?: string;
  minDelayMs: number;
  maxDelayMs: number;
  /** Source of the delays, in [0, 1); injectable for deterministic tests. */
  random?: () => number;
}

export interface ObjectsApi {
  port: number;
  stats(): { requests: number };
  /** Stops listening, drops pending replies and closes every connection, keep-alive ones included.
   * Idempotent. */
  close(): Promise<void>;
}

/** Longer than any client pool keeps an idle socket, so the simulator is never the side that closes
 * a keep-alive connection (which would make clients retry on a half-dead socket). */
const KEEP_ALIVE_TIMEOUT_MS = 120_000;

/** Room for the burst of connections a consumer fleet opens at start-up (capped by the kernel's somaxconn). */
const LISTEN_BACKLOG = 4096;

const OBJECT_PATH = /^\/objects\/(\d+)$/;

/** The id of a `GET /objects/:id` request, or undefined for anything else. */
function objectIdOf(request: http.IncomingMessage): number | undefined {
  if (request.method !== 'GET') return undefined;
  const { pathname } = new URL(request.url ?? '/', 'http://objects-api');
  const match = OBJECT_PATH.exec(pathname);
  const id = match ? Number(match[1]) : undefined;
  return id !== undefined && Number.isSafeInteger(id) ? id : undefined;
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(payload),
  });
  response.end(payload);
}

export function startObjectsApi(options: ObjectsApiOptions): Promise<ObjectsApi> {
  const random = options.random ?? Math.random;
  const pendingReplies = new Set<NodeJS.Timeout>();
  let requests = 0;

  const server = http.createServer((request, response) => {
    requests += 1;
    const id = objectIdOf(request);
    if (id === undefined) {
      sendJson(response, 404, { error: 'not found' });
      return;
    }
    const delayMs = options.minDelayMs + random() * (options.maxDelayMs - options.minDelayMs);
    const reply = setTimeout(() => {
      pendingReplies.delete(reply);
      sendJson(response, 200, { id, online: id % 2 === 0 });
    }, delayMs);
    pendingReplies.add(reply);
    // A client that gave up needs no answer.
    response.once('close', () => {
      clearTimeout(reply);
      pendingReplies.delete(reply);
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  // Node expects the headers timeout to exceed the keep-alive timeout, or it may cut a reused socket early.
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= new Promise<void>((resolve, reject) => {
      pendingReplies.forEach((reply) => clearTimeout(reply));
      pendingReplies.clear();
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    }));

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        stats: () => ({ requests }),
        close,
      });
    });
  });
}
