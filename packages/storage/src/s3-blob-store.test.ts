import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { FaultProxy, HttpStub, startS3Server, waitFor, type S3Server } from '@conveyor/testkit';
import { S3BlobStore } from './s3-blob-store.js';
import { collect, MB, S3RVER_CLIENT, sha256, storageErrorOf, streamOf } from './test-support.js';

const BUCKET = 'blobs';

describe('S3BlobStore against s3rver', () => {
  let server: S3Server;
  let store: S3BlobStore;

  beforeAll(async () => {
    server = await startS3Server({ buckets: [BUCKET] });
    store = new S3BlobStore({ ...S3RVER_CLIENT, endpoint: server.endpoint });
  });

  afterAll(async () => {
    store.destroy();
    await server.stop();
  });

  it('streams a 20 MB upload and reads it back byte-exact with monotonic progress', async () => {
    const content = randomBytes(20 * MB);
    const location = { bucket: BUCKET, key: 'big/20mb.bin' };
    const progress: [number, number][] = [];

    const written = await store.write(location, streamOf(content), {
      contentType: 'application/octet-stream',
    });
    const stat = await store.stat(location);
    const read = await collect(
      store.read(location, { onProgress: (bytesRead, total) => progress.push([bytesRead, total]) }),
    );

    expect(written).toEqual(stat);
    expect(stat).toMatchObject({ size: content.length, contentType: 'application/octet-stream' });
    expect(stat.etag).toMatch(/^".+"$/);
    expect(sha256(read)).toBe(sha256(content));
    expect(progress.every(([bytesRead], i) => i === 0 || bytesRead > progress[i - 1]![0])).toBe(true);
    expect(progress.every(([, total]) => total === content.length)).toBe(true);
    expect(progress.at(-1)).toEqual([content.length, content.length]);
  });

  it('writes a Buffer, reads an empty object, and deletes idempotently', async () => {
    const location = { bucket: BUCKET, key: 'empty.txt' };
    await store.write(location, Buffer.alloc(0));
    expect((await store.stat(location)).size).toBe(0);
    expect((await collect(store.read(location))).length).toBe(0);

    await store.delete(location);
    await store.delete(location);
    expect((await storageErrorOf(store.stat(location))).code).toBe('not_found');
  });

  it.each([
    ['key', { bucket: BUCKET, key: 'no/such/key.csv' }],
    ['bucket', { bucket: 'no-such-bucket', key: 'file.csv' }],
  ])('reports a missing %s as not_found at once, with a single request', async (_what, location) => {
    for (const operation of [() => collect(store.read(location)), () => store.stat(location)]) {
      const requestsBefore = server.requestCount();
      const started = Date.now();
      const error = await storageErrorOf(operation());
      expect(error).toMatchObject({ code: 'not_found', status: 404 });
      expect(error.message).toContain(`s3://${location.bucket}/${location.key}`);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(server.requestCount() - requestsBefore).toBe(1);
    }
  });

  it('aborts a streaming upload and leaves no object behind', async () => {
    const location = { bucket: BUCKET, key: 'aborted-upload.bin' };
    const controller = new AbortController();
    const endless = new Readable({ read() {} });
    endless.push(randomBytes(12 * MB)); // enough for two parts to be in flight
    setTimeout(() => controller.abort(), 200);

    const error = await storageErrorOf(store.write(location, endless, { signal: controller.signal }));

    expect(error.code).toBe('aborted');
    expect((await storageErrorOf(store.stat(location))).code).toBe('not_found');
  });

  it('refuses a location without a bucket', async () => {
    expect((await storageErrorOf(collect(store.read({ key: 'x' })))).code).toBe('invalid_location');
  });

  it('fails at once with storage_refused when the server refuses the request itself (a 4xx)', async () => {
    // A stricter S3-compatible server than s3rver: it refuses this key as an invalid argument.
    const strict = await HttpStub.start((req, res) => {
      res.writeHead(400, { 'content-type': 'application/xml' });
      // A HEAD answer has no body: the SDK then only knows the status.
      res.end(
        req.method === 'HEAD'
          ? undefined
          : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code><Message>Invalid key</Message></Error>',
      );
    });
    const refusing = new S3BlobStore({ ...S3RVER_CLIENT, endpoint: strict.url, retryBaseMs: 1 });
    try {
      const location = { bucket: BUCKET, key: 'refused.csv' };
      const read = await storageErrorOf(collect(refusing.read(location)));
      expect(read).toMatchObject({
        code: 'storage_refused',
        message: expect.stringContaining('InvalidArgument, HTTP 400: Invalid key'),
      });
      const stat = await storageErrorOf(refusing.stat(location));
      expect(stat).toMatchObject({ code: 'storage_refused', message: expect.stringContaining('HTTP 400') });
      // One request each: neither the SDK nor the resuming reader tried again.
      expect(strict.requests).toBe(2);
    } finally {
      refusing.destroy();
      await strict.stop();
    }
  });

  describe('through a fault proxy', () => {
    let proxy: FaultProxy;
    let proxiedStore: S3BlobStore;
    const location = { bucket: BUCKET, key: 'abort/8mb.bin' };

    beforeAll(async () => {
      await store.write(location, randomBytes(8 * MB));
      proxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: server.port });
      // A long socket timeout: only the abort may end a stalled read here.
      proxiedStore = new S3BlobStore({
        ...S3RVER_CLIENT,
        endpoint: `http://${proxy.url}`,
        maxAttempts: 1,
        requestTimeoutMs: 30_000,
      });
    });

    afterAll(async () => {
      proxiedStore.destroy();
      await proxy.stop();
    });

    afterEach(() => {
      // Reset before unstalling: releasing a stalled connection into a half-closed client socket
      // and then resetting it can leave the pair without a 'close' event, which hangs proxy.stop().
      proxy.resetAll();
      proxy.restore();
      proxy.unstall();
    });

    it('aborts a stalled in-flight read and closes its connection', async () => {
      proxy.stallAfterBytes(2 * MB);
      const controller = new AbortController();
      let bytesSeen = 0;
      const started = Date.now();
      const reading = collect(
        proxiedStore.read(location, {
          signal: controller.signal,
          onProgress: (bytesRead) => {
            bytesSeen = bytesRead;
            if (bytesRead >= MB) setTimeout(() => controller.abort(), 200);
          },
        }),
      );

      const error = await storageErrorOf(reading);
      expect(error.code).toBe('aborted');
      expect(bytesSeen).toBeGreaterThan(0);
      expect(Date.now() - started).toBeLessThan(5_000);
      // The stall also holds back the client's FIN; once released, a connection the client still
      // held (reading on, or pooled for reuse) would stay open.
      proxy.unstall();
      await waitFor('the aborted connection to close', () => proxy.activeConnections === 0, {
        timeoutMs: 5_000,
      });
    });

    it('aborts while waiting to retry', async () => {
      proxy.cut();
      const controller = new AbortController();
      const store = new S3BlobStore({
        ...S3RVER_CLIENT,
        endpoint: `http://${proxy.url}`,
        maxAttempts: 1,
        retryBaseMs: 10_000,
        retryMaxMs: 10_000,
      });
      const started = Date.now();
      const reading = collect(
        store.read(location, { signal: controller.signal, onRetry: () => controller.abort() }),
      );
      expect((await storageErrorOf(reading)).code).toBe('aborted');
      expect(Date.now() - started).toBeLessThan(2_000);
      store.destroy();
    });
  });
});
