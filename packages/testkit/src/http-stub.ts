import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type StubHandler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => unknown;

/** A tiny real HTTP server whose behaviour the test decides per request (errors, delays, bad bodies). */
export class HttpStub {
  requests = 0;

  private constructor(private readonly server: http.Server) {}

  static async start(handler: StubHandler): Promise<HttpStub> {
    let stub: HttpStub | undefined = undefined;
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (stub) stub.requests += 1;
        Promise.resolve(handler(req, res, Buffer.concat(chunks).toString('utf8'))).catch(() => {
          res.destroy();
        });
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stub = new HttpStub(server);
    return stub;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
