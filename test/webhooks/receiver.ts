import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signatures: string[];
  body: string;
  payload: {
    jobId: string;
    status: string;
    sequence: number;
    customId: string | null;
    [key: string]: unknown;
  };
  receivedAt: number;
}

/**
 * Standard Webhooks verification written from the spec, independently of the sender's code:
 * HMAC-SHA256 over `${id}.${timestamp}.${body}` with the base64-decoded part of `whsec_…`,
 * compared with any `v1,` entry of the signature header.
 */
export function verifySignature(
  secret: string,
  id: string,
  timestamp: string,
  body: string,
  header: string,
): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return header.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || !signature) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export type Reply = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  webhook: ReceivedWebhook,
) => void | Promise<void>;

/** A webhook receiver that records what it gets and answers as the test says (200 by default). */
export class Receiver {
  readonly received: ReceivedWebhook[] = [];
  reply: Reply = (_req, res) => void res.writeHead(200).end('ok');
  private server: http.Server | undefined;
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const webhook: ReceivedWebhook = {
          id: String(req.headers['webhook-id']),
          timestamp: String(req.headers['webhook-timestamp']),
          signatures: String(req.headers['webhook-signature'] ?? '').split(' '),
          body,
          payload: JSON.parse(body) as ReceivedWebhook['payload'],
          receivedAt: Date.now(),
        };
        this.received.push(webhook);
        void Promise.resolve(this.reply(req, res, webhook)).catch(() => res.destroy());
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  forJob(jobId: string): ReceivedWebhook[] {
    return this.received.filter((w) => w.payload.jobId === jobId);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}
