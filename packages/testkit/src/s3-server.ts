import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export interface S3ServerOptions {
  /** Created empty before the server accepts requests. */
  buckets: string[];
}

export interface S3Server {
  /** http://127.0.0.1:<port>; clients need forcePathStyle and WHEN_REQUIRED checksums. */
  endpoint: string;
  port: number;
  /** HTTP requests received so far, to assert how many attempts a client made. */
  requestCount(): number;
  /** Closes open connections, stops the server and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * An in-process s3rver on an ephemeral loopback port, storing objects in a fresh temporary
 * directory. Good enough for streaming, multipart uploads and open-ended `bytes=N-` ranges; it
 * ignores If-Match and mishandles suffix ranges and `bytes=0-0`, so tests must not rely on those.
 */
export async function startS3Server(options: S3ServerOptions): Promise<S3Server> {
  const directory = await mkdtemp(path.join(tmpdir(), 'conveyor-s3rver-'));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  // `silent` only mutes the console transport; responses that finish after stop() (their sockets
  // closed by it) would still reach the closed logger, which then complains on stderr.
  s3rver.logger.silent = true;
  const { port } = await s3rver.run();
  let requests = 0;
  s3rver.httpServer.on('request', () => (requests += 1));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    requestCount: () => requests,
    async stop() {
      // Keep-alive sockets would otherwise hold close() open until the clients time out.
      s3rver.httpServer.closeAllConnections();
      await s3rver.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
