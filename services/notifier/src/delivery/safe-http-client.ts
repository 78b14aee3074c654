/**
 * POSTs one webhook to a client-supplied URL without letting that URL reach our own network.
 *
 * SSRF: the address judged must be the address connected to. Checking a host name's DNS answer
 * and then letting the socket resolve it again is open to DNS rebinding (first answer public,
 * second 127.0.0.1), so the check runs inside the socket's own `lookup`: the addresses it
 * approves are the ones the socket dials. We write that lookup rather than use
 * request-filtering-agent: its single allowPrivateIPAddress switch cannot express our policy
 * (loopback and private separately, the metadata service never, allow-listed host names), and
 * the package is ESM-only while our tests run as CommonJS. The lookup refuses when ANY resolved
 * address is forbidden, not just the first: with Happy Eyeballs the socket may dial any of them.
 * Literal-IP hosts never reach `lookup`, so they are judged from the URL before connecting.
 *
 * Connections are kept alive per origin, in one agent per address policy whose sockets all went
 * through that policy's lookup when they were opened: a reused socket is connected to an address
 * that was checked, and skipping the handshake saves most of an attempt's cost. A socket is lent to
 * one request at a time, so destroying a request at its deadline closes only that socket. Idle
 * sockets close after FREE_SOCKET_IDLE_MS, shorter than common server keep-alive timeouts; a request
 * that still finds its reused socket closed under it (the server timed it out first) is sent once
 * more on a fresh connection.
 */
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { LookupFunction } from 'node:net';
import { AppError, errorMessage } from '@conveyor/platform';
import { checkCallbackUrl, type AddressPolicy } from '@conveyor/webhooks';
import type { AttemptError, DeliveryErrorCode } from './delivery-outcome.js';

const USER_AGENT = 'Conveyor-Webhooks/1.0';
/** Idle kept-alive sockets close after this, in ms (Node's own server default keep-alive is 5 s). */
const FREE_SOCKET_IDLE_MS = 4_000;
/**
 * Idle sockets kept per origin (Node's default). A burst beyond this closes the extra sockets,
 * and the next burst pays their handshakes again.
 */
const MAX_FREE_SOCKETS_PER_ORIGIN = 256;

export interface PostWebhookRequest {
  url: string | URL;
  /** Typically webhookHeaders(); content-length is always computed here. */
  headers: Readonly<Record<string, string>>;
  /** Sent byte for byte: it is what the signature covers. */
  body: string;
  /** Hard deadline for the whole exchange: DNS, connect, TLS, headers and body. */
  timeoutMs: number;
  /** How much of the response body to keep; the rest is not even read. */
  maxResponseBytes: number;
  policy: AddressPolicy;
  /** Aborts the attempt (shutdown); it fails with code `aborted`. */
  signal?: AbortSignal;
}

export interface WebhookResponse {
  status: number;
  /** Repeated headers are joined with ", ". */
  headers: Record<string, string>;
  /** The first maxResponseBytes of the body, decoded as UTF-8, for the delivery log. */
  bodySnippet: string;
  /** The body was longer than maxResponseBytes: reading stopped there (not a failure). */
  bodyTruncated: boolean;
  durationMs: number;
}

/** An attempt that produced no HTTP response; `code` feeds classifyResponse. */
export class WebhookRequestError extends AppError {
  declare readonly code: DeliveryErrorCode;
  readonly durationMs: number;

  constructor(code: DeliveryErrorCode, message: string, options: { durationMs: number; cause?: unknown }) {
    super(code, message, { status: 502, cause: options.cause });
    this.name = 'WebhookRequestError';
    this.durationMs = options.durationMs;
  }
}

/** Resolves with any HTTP status, 3xx included (redirects are never followed). */
export async function postWebhook(request: PostWebhookRequest): Promise<WebhookResponse> {
  const startedAt = performance.now();
  const elapsed = () => Math.round(performance.now() - startedAt);
  if (!(request.timeoutMs > 0) || !(request.maxResponseBytes >= 0)) {
    throw new AppError('invalid_request', `timeoutMs must be > 0 and maxResponseBytes ≥ 0.`);
  }
  const check = checkCallbackUrl(String(request.url), request.policy);
  if (!check.ok) throw new WebhookRequestError(check.code, check.message, { durationMs: elapsed() });
  if (request.signal?.aborted) {
    throw new WebhookRequestError('aborted', 'The delivery was aborted before it started.', {
      durationMs: elapsed(),
    });
  }
  return exchange(check.url, request, elapsed, true);
}

interface Agents {
  http: http.Agent;
  https: https.Agent;
}

/** One pair of keep-alive agents per policy: a socket is only ever reused under the policy that checked it. */
const agentsByPolicy = new WeakMap<AddressPolicy, Agents>();

function agentsFor(policy: AddressPolicy): Agents {
  let agents = agentsByPolicy.get(policy);
  if (!agents) {
    const options = {
      keepAlive: true,
      timeout: FREE_SOCKET_IDLE_MS,
      maxFreeSockets: MAX_FREE_SOCKETS_PER_ORIGIN,
      lookup: policyCheckedLookup(policy),
    };
    agents = { http: new http.Agent(options), https: new https.Agent(options) };
    agentsByPolicy.set(policy, agents);
  }
  return agents;
}

/** The server closed a kept-alive socket just as it was reused: nothing of this request was answered. */
function isStaleSocket(req: http.ClientRequest, error: NodeJS.ErrnoException, phase: Phase): boolean {
  return (
    req.reusedSocket &&
    phase === 'awaiting_response' &&
    (error.code === 'ECONNRESET' || error.code === 'EPIPE')
  );
}

/** Where the exchange stood when it failed, which decides the error code. */
type Phase = 'connecting' | 'tls_handshake' | 'awaiting_response' | 'reading_body';

function exchange(
  url: URL,
  request: PostWebhookRequest,
  elapsed: () => number,
  mayReuse: boolean,
): Promise<WebhookResponse> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    let phase: Phase = 'connecting';
    let settled = false;
    const agents = agentsFor(request.policy);

    const req = (isHttps ? https : http).request(url, {
      method: 'POST',
      // The retry after a stale socket takes a fresh connection (and does not keep it).
      agent: mayReuse ? (isHttps ? agents.https : agents.http) : false,
      lookup: policyCheckedLookup(request.policy),
      headers: {
        'user-agent': USER_AGENT,
        ...request.headers,
        'content-length': Buffer.byteLength(request.body),
      },
    });
    const deadline = setTimeout(
      () =>
        fail(
          'timeout',
          `No complete response within ${request.timeoutMs} ms (stopped while ${describePhase(phase)}).`,
        ),
      Math.max(0, request.timeoutMs - elapsed()),
    );
    const onAbort = () => fail('aborted', 'The delivery was aborted.', request.signal?.reason);
    request.signal?.addEventListener('abort', onAbort, { once: true });

    /** Runs once: the first of response, error, deadline or abort wins; the connection is torn down. */
    function settle(): boolean {
      if (settled) return false;
      settled = true;
      clearTimeout(deadline);
      request.signal?.removeEventListener('abort', onAbort);
      return true;
    }
    function fail(code: DeliveryErrorCode, message: string, cause?: unknown) {
      if (!settle()) return;
      req.destroy();
      reject(new WebhookRequestError(code, message, { durationMs: elapsed(), cause }));
    }
    function failWith(failure: AttemptError, cause: Error) {
      fail(failure.code, failure.message, cause);
    }
    function succeed(response: IncomingMessage, body: Buffer, bodyTruncated: boolean) {
      if (!settle()) return;
      if (bodyTruncated) req.destroy();
      resolve({
        status: response.statusCode ?? 0,
        headers: flattenHeaders(response.headers),
        bodySnippet: body.toString('utf8'),
        bodyTruncated,
        durationMs: elapsed(),
      });
    }

    req.on('socket', (socket) => {
      // A reused socket is connected (and past TLS) already. Listen only on a fresh one: a kept-alive
      // socket never emits these again, so listeners added at each reuse would stay on it for its
      // whole life, each holding its request (every request ever sent on it, in memory).
      if (req.reusedSocket) {
        phase = 'awaiting_response';
        return;
      }
      socket.once('connect', () => (phase = isHttps ? 'tls_handshake' : 'awaiting_response'));
      if (isHttps) socket.once('secureConnect', () => (phase = 'awaiting_response'));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (mayReuse && isStaleSocket(req, error, phase) && settle()) {
        req.destroy();
        exchange(url, request, elapsed, false).then(resolve, reject);
        return;
      }
      failWith(networkFailure(error, phase, url.host), error);
    });
    req.on('response', (response) => {
      phase = 'reading_body';
      readLimited(response, request.maxResponseBytes, {
        onDone: (body, truncated) => succeed(response, body, truncated),
        onBroken: (error) => failWith(networkFailure(error, phase, url.host), error),
      });
    });
    req.end(request.body);
  });
}

/** Reads at most maxBytes of the body; stops early (truncated) rather than buffering the rest. */
function readLimited(
  response: IncomingMessage,
  maxBytes: number,
  handlers: { onDone: (body: Buffer, truncated: boolean) => void; onBroken: (error: Error) => void },
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  response.on('data', (chunk: Buffer) => {
    if (size + chunk.length > maxBytes) {
      chunks.push(chunk.subarray(0, maxBytes - size));
      handlers.onDone(Buffer.concat(chunks), true);
      return;
    }
    chunks.push(chunk);
    size += chunk.length;
  });
  response.on('end', () => handlers.onDone(Buffer.concat(chunks), false));
  response.on('error', handlers.onBroken);
  // A connection cut mid-body may close the response without an 'error'.
  response.on('close', () => {
    if (!response.complete) handlers.onBroken(new Error('the response ended before its body did'));
  });
}

class AddressRefusal extends Error {}

/** What a socket or stream error means, given how far the exchange had got. */
function networkFailure(error: Error, phase: Phase, host: string): AttemptError {
  if (error instanceof AddressRefusal) return { code: 'address_refused', message: error.message };
  if (phase === 'tls_handshake') {
    return { code: 'tls_failed', message: `TLS handshake with ${host} failed: ${errorMessage(error)}` };
  }
  const message = `Connection to ${host} failed while ${describePhase(phase)}: ${errorMessage(error)}`;
  return { code: 'connect_failed', message };
}

/** dns.lookup, refusing the connection when any resolved address is forbidden (see the file comment). */
function policyCheckedLookup(policy: AddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const [first] = addresses;
      if (first === undefined) return callback(new Error(`${hostname} resolved to no address`), []);
      const refusals = policy.isHostAllowListed(hostname)
        ? []
        : addresses.flatMap(({ address }) => policy.refusalReason(address) ?? []);
      if (refusals.length > 0) {
        return callback(
          new AddressRefusal(`${hostname} resolves to a forbidden address: ${refusals.join('; ')}.`),
          [],
        );
      }
      // Node asks for all addresses when it races them (autoSelectFamily), else for one.
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(', ') : value]],
    ),
  );
}

function describePhase(phase: Phase): string {
  switch (phase) {
    case 'connecting':
      return 'connecting';
    case 'tls_handshake':
      return 'in the TLS handshake';
    case 'awaiting_response':
      return 'awaiting the response';
    case 'reading_body':
      return 'reading the response body';
  }
}
