// Plain node:http helpers for talking to the services on 127.0.0.1.
import http from 'node:http';
import net from 'node:net';

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
  return new Promise((resolveResponse, reject) => {
    const headers =
      body === undefined
        ? {}
        : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () =>
        resolveResponse({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }),
      );
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
 * The agent of the bench's own probes (/readyz, /metrics): a few keep-alive sockets apart from the
 * load's agents, so probing does not queue behind the load. Destroy it at the end of the run.
 */
export const opsAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
