import { createServer, type Server } from 'node:http';
import type express from 'express';
import { env } from './config.js';

/** How long a connection may take, or sit idle, before the server closes it, and how many may be open. */
export interface HttpLimits {
  /** From connect (or the first byte of a request on a kept-alive connection) to the end of its headers. */
  headersTimeoutMs: number;
  /** From connect to the end of a request's body: bounds a slow upload as a whole. */
  requestTimeoutMs: number;
  /** Idle time between two requests on a kept-alive connection. */
  keepAliveTimeoutMs: number;
  /** Connections open at once; the server closes any beyond that as soon as it accepts them. */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 5_000,
};

/**
 * The variables behind HttpLimits, for a service's env schema. A socket that never sends a
 * byte is closed (with a 408) after HTTP_HEADERS_TIMEOUT_MS: without these bounds 2,000 silent
 * connections stayed open forever.
 */
export const httpServerEnvShape = {
  /** Time a connection has to send a request's headers, in ms; a silent socket is closed after it. Default 10 s. */
  HTTP_HEADERS_TIMEOUT_MS: env.int(DEFAULT_HTTP_LIMITS.headersTimeoutMs, 1),
  /** Time a client has to send a whole request, body included, in ms. Default 300 s (a 25 MiB upload at under 1 Mbit/s). */
  HTTP_REQUEST_TIMEOUT_MS: env.int(DEFAULT_HTTP_LIMITS.requestTimeoutMs, 1),
  /** Idle time before a kept-alive connection is closed, in ms. Default 5 s. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: env.int(DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs, 1),
  /**
   * Connections open at once, per port; more are closed on accept. Default 5,000: a quarter of a
   * 20,000-descriptor limit, leaving room for files and the sockets to PostgreSQL and RabbitMQ.
   */
  HTTP_MAX_CONNECTIONS: env.int(DEFAULT_HTTP_LIMITS.maxConnections, 1),
};

/** A config that may have the variables of httpServerEnvShape (a service schema without them gets the defaults). */
export type HttpLimitsConfig = Partial<Record<keyof typeof httpServerEnvShape, number>>;

/** The limits a config sets; the defaults for those it does not. */
export function httpLimitsFrom(config: HttpLimitsConfig): HttpLimits {
  return {
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS ?? DEFAULT_HTTP_LIMITS.headersTimeoutMs,
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS ?? DEFAULT_HTTP_LIMITS.requestTimeoutMs,
    keepAliveTimeoutMs: config.HTTP_KEEP_ALIVE_TIMEOUT_MS ?? DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs,
    maxConnections: config.HTTP_MAX_CONNECTIONS ?? DEFAULT_HTTP_LIMITS.maxConnections,
  };
}

/**
 * Node checks the header and request deadlines on a timer, 30 s apart by default, so a silent
 * socket would live up to 30 s past its deadline; a quarter of the header deadline (at most
 * 1 s) keeps the overshoot small, and each check only walks the expired connections.
 */
function checkingIntervalMs(limits: HttpLimits): number {
  return Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4)));
}

/** Listens with `limits` and resolves with the server (port 0 picks a free one, as tests do). */
export function listen(
  app: express.Express,
  port: number,
  limits: HttpLimits = DEFAULT_HTTP_LIMITS,
  host = '0.0.0.0',
): Promise<Server> {
  const server = createServer(
    {
      // Node refuses a header deadline past the request's; the request's then bounds both anyway.
      headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
    app,
  );
  server.maxConnections = limits.maxConnections;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

export function boundPort(server: Server): number {
  const address = server.address();
  if (address === null || typeof address === 'string')
    throw new Error('server is not listening on a TCP port');
  return address.port;
}

/** Stops accepting, lets in-flight requests finish for up to `graceMs`, then drops idle keep-alive sockets. */
export function closeServer(server: Server, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
