import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  verifyWebhook,
  WebhookVerificationError,
  type VerifyOptions,
  type WebhookPayload,
} from '../webhooks/verify-webhook.js';

export interface WebhookReceiverOptions extends VerifyOptions {
  /** The client's `whsec_…` secret, or several during a rotation's overlap. */
  secret: string | readonly string[];
  /** Handles a verified push; the receiver answers 204 once it resolves, 500 if it throws (the push is retried). */
  onEvent: (payload: WebhookPayload, meta: { webhookId: string }) => unknown;
  /** Largest body read, in bytes. Default 1 MiB (a push inlines results up to 16 KiB). */
  maxBodyBytes?: number | undefined;
}

/** A request as node:http gives it, or as express does (`body` set when a parser ran before). */
type WebhookRequest = IncomingMessage & { body?: unknown };

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * A request handler for node:http (`http.createServer(handler)`) and express
 * (`app.post('/hooks', handler)`): reads the raw body, verifies its Standard Webhooks signature,
 * answers 401 to a bad one and hands a good one's payload to `onEvent`. In express, mount it
 * before `express.json()` or behind `express.raw()`: verification needs the bytes as sent.
 */
export function webhookReceiver(
  options: WebhookReceiverOptions,
): (req: WebhookRequest, res: ServerResponse, next?: (error?: unknown) => void) => void {
  return (req, res) => {
    void receive(req, res, options);
  };
}

async function receive(req: WebhookRequest, res: ServerResponse, options: WebhookReceiverOptions) {
  let body: Uint8Array;
  try {
    body = await rawBody(req, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  } catch (error) {
    return answer(res, error instanceof BodyError ? error.status : 400, errorMessageOf(error));
  }
  let payload: WebhookPayload;
  try {
    payload = await verifyWebhook(body, req.headers, options.secret, options);
  } catch (error) {
    if (error instanceof WebhookVerificationError) return answer(res, 401, error.message, error.code);
    return answer(res, 500, errorMessageOf(error));
  }
  try {
    await options.onEvent(payload, { webhookId: String(req.headers['webhook-id']) });
  } catch (error) {
    return answer(res, 500, errorMessageOf(error));
  }
  res.writeHead(204).end();
}

class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function rawBody(req: WebhookRequest, maxBytes: number): Promise<Uint8Array> {
  if (req.body instanceof Uint8Array) return req.body;
  if (req.body !== undefined && req.readableEnded)
    throw new BodyError(
      500,
      'the body was parsed before the webhook receiver saw it: mount the receiver before express.json(), or use express.raw({ type: "application/json" })',
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += bytes.length;
    if (size > maxBytes) throw new BodyError(413, `the body is larger than ${maxBytes} bytes`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

function answer(res: ServerResponse, status: number, message: string, code = 'webhook_refused'): void {
  res
    .writeHead(status, { 'content-type': 'application/json' })
    .end(JSON.stringify({ error: { code, message } }));
}

function errorMessageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
