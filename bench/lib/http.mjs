// Plain node:http helpers for talking to the services on 127.0.0.1.
import http from 'node:http';
import net from 'node:net';
import { percentile } from './stats.mjs';

/** A port free right now, for a service to listen on (the services take their port from env). */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** One request with a JSON `body` (if any); resolves with the status and the body as text. */
export function request(agent, port, method, path, body, timeoutMs = 10_000) {
  const headers = body === undefined ? {} : { 'content-type': 'application/json' };
  return send(agent, port, method, path, { body, headers, timeoutMs });
}

/**
 * One request with any `body` (a string or a Buffer, sent as is with its content-length) and
 * `headers`; resolves with the status and the body as text, or as a Buffer with `binary`.
 */
export function send(
  agent,
  port,
  method,
  path,
  { body, headers = {}, timeoutMs = 10_000, binary = false } = {},
) {
  return new Promise((resolveResponse, reject) => {
    const allHeaders =
      body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) };
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers: allHeaders }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolveResponse({ status: res.statusCode, body: binary ? data : data.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)),
    );
    req.end(body);
  });
}

/**
 * `count` requests from `clients` keep-alive clients, back to back (a closed loop: a client sends its
 * next request when its last one is answered), until all are sent or `maxSeconds` have passed.
 * `call(agent, i)` sends request i and resolves with its { status, body }; an answer other than
 * `okStatus`, or an error, is a failure (the first one is kept, to show). `onAccepted(answer, i)`
 * sees each accepted answer (e.g. to keep the ids); if it throws, the request counts as failed.
 * Resolves with the first send (epoch ms), the window, the accepted and failed counts and the
 * latencies of the answered requests.
 */
export async function closedLoop({ count, clients, maxSeconds, call, okStatus = 202, onAccepted }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies = [];
  let next = 0;
  let accepted = 0;
  let failures = 0;
  let firstFailure;
  const startedAtEpoch = Date.now();
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  async function client() {
    while (next < count && performance.now() < deadline) {
      const i = next;
      next += 1;
      const t0 = performance.now();
      try {
        const answer = await call(agent, i);
        latencies.push(performance.now() - t0);
        if (answer.status === okStatus) {
          onAccepted?.(answer, i);
          accepted += 1;
        } else {
          failures += 1;
          firstFailure ??= `HTTP ${answer.status}: ${String(answer.body).slice(0, 200)}`;
        }
      } catch (error) {
        failures += 1;
        firstFailure ??= error.message;
      }
    }
  }
  await Promise.all(Array.from({ length: clients }, client));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    clients,
    startedAtEpoch,
    seconds,
    accepted,
    failures,
    firstFailure,
    rate: accepted / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies.at(-1),
  };
}

/**
 * The agent of the bench's own probes (/readyz, /metrics): a few keep-alive sockets apart from the
 * load's agents, so probing does not queue behind the load. Destroy it at the end of the run.
 */
export const opsAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
