import { randomBytes } from 'node:crypto';
import { FaultProxy, startS3Server, type S3Server } from '@conveyor/testkit';
import type { RetryInfo } from './blob-store.js';
import { S3BlobStore, type S3StoreOptions } from './s3-blob-store.js';
import { collect, MB, S3RVER_CLIENT, sha256, storageErrorOf } from './test-support.js';

const BUCKET = 'resume';
const OBJECT = { bucket: BUCKET, key: 'data/12mb.bin' };

/** Real faults between the store and s3rver: every read goes through the proxy, while setup
 * and the "someone else overwrites the object" step talk to s3rver directly. */
describe('S3BlobStore.read resumes after network faults', () => {
  let server: S3Server;
  let proxy: FaultProxy;
  let direct: S3BlobStore;
  const proxiedStores: S3BlobStore[] = [];
  let content: Buffer;

  /** One SDK attempt per request, so every fault reaches read()'s own resumption. */
  function proxiedStore(options: Partial<S3StoreOptions> = {}): S3BlobStore {
    const store = new S3BlobStore({
      ...S3RVER_CLIENT,
      endpoint: `http://${proxy.url}`,
      maxAttempts: 1,
      retryBaseMs: 20,
      retryMaxMs: 200,
      ...options,
    });
    proxiedStores.push(store);
    return store;
  }

  beforeAll(async () => {
    server = await startS3Server({ buckets: [BUCKET] });
    proxy = await FaultProxy.start({ targetHost: '127.0.0.1', targetPort: server.port });
    direct = new S3BlobStore({ ...S3RVER_CLIENT, endpoint: server.endpoint });
    content = randomBytes(12 * MB);
    await direct.write(OBJECT, content);
  });

  afterEach(() => {
    // Reset before unstalling: releasing a stalled connection into a half-closed client socket
    // and then resetting it can leave the pair without a 'close' event, which hangs proxy.stop().
    proxy.resetAll();
    proxy.restore();
    proxy.unstall();
  });

  afterAll(async () => {
    proxiedStores.forEach((store) => store.destroy());
    direct.destroy();
    await proxy.stop();
    await server.stop();
  });

  it('survives several resets in a row mid-object and reports each resume', async () => {
    // Tripwires count per connection from when they are armed: arm the next one as each
    // resume starts, so the cuts land near 2, 5 and 9 MB of the object.
    const nextCuts = [3 * MB, 4 * MB];
    const retries: RetryInfo[] = [];
    proxy.resetAfterBytes(2 * MB);

    const read = await collect(
      proxiedStore().read(OBJECT, {
        onRetry: (info) => {
          retries.push(info);
          const next = nextCuts.shift();
          if (next !== undefined) proxy.resetAfterBytes(next);
        },
      }),
    );

    expect(sha256(read)).toBe(sha256(content));
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3]);
    const resumedAt = retries.map((r) => r.bytesRead);
    expect(resumedAt[0]).toBeGreaterThan(0);
    expect(resumedAt[0]).toBeLessThanOrEqual(2 * MB);
    expect(resumedAt[1]).toBeGreaterThan(resumedAt[0]!);
    expect(resumedAt[2]).toBeGreaterThan(resumedAt[1]!);
    expect(resumedAt[2]).toBeLessThanOrEqual(9 * MB);
  });

  it('resumes after a stalled body hits the socket timeout', async () => {
    const retries: RetryInfo[] = [];
    proxy.stallAfterBytes(3 * MB);
    const started = Date.now();

    const read = await collect(
      proxiedStore({ requestTimeoutMs: 1_000 }).read(OBJECT, { onRetry: (info) => retries.push(info) }),
    );

    expect(sha256(read)).toBe(sha256(content));
    expect(retries).toHaveLength(1);
    expect(retries[0]!.error).toMatch(/timed out/);
    expect(retries[0]!.bytesRead).toBeGreaterThan(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('backs off and succeeds when the first connections are refused', async () => {
    const retries: RetryInfo[] = [];
    proxy.failNextConnections(3);

    const read = await collect(proxiedStore().read(OBJECT, { onRetry: (info) => retries.push(info) }));

    expect(sha256(read)).toBe(sha256(content));
    expect(retries.map((r) => [r.attempt, r.bytesRead])).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
  });

  it('gives up with too_many_failures after maxReadFailures attempts without progress', async () => {
    const retries: RetryInfo[] = [];
    const chunks: Uint8Array[] = [];
    proxy.resetAfterBytes(MB);

    const reading = (async () => {
      for await (const chunk of proxiedStore({ maxReadFailures: 4 }).read(OBJECT, {
        onRetry: (info) => {
          retries.push(info);
          proxy.cut(); // from the first failure on, nothing gets through
        },
      })) {
        chunks.push(chunk);
      }
    })();
    const error = await storageErrorOf(reading);

    expect(error).toMatchObject({ code: 'too_many_failures', status: 503 });
    const received = Buffer.concat(chunks).length;
    expect(error.message).toContain(`4 consecutive failed attempts`);
    expect(error.message).toContain(`${received} of ${content.length} bytes received`);
    expect(error.message).toContain('s3://resume/data/12mb.bin');
    expect(retries).toHaveLength(3);
  });

  it('fails with object_changed, never a spliced result, when the object is replaced between attempts', async () => {
    const key = { bucket: BUCKET, key: 'data/changing.bin' };
    const original = randomBytes(6 * MB);
    const replacement = randomBytes(original.length); // same size: only the ETag tells them apart
    await direct.write(key, original);
    let replaced: Promise<void> | undefined;
    const chunks: Uint8Array[] = [];
    proxy.resetAfterBytes(MB);

    const reading = (async () => {
      // Retries during the overwrite are refused by the cut; keep enough of them in reserve.
      for await (const chunk of proxiedStore({ maxReadFailures: 50 }).read(key, {
        onRetry: () => {
          if (replaced) return;
          proxy.cut();
          replaced = direct.write(key, replacement).then(
            () => proxy.restore(),
            () => proxy.restore(),
          );
        },
      })) {
        chunks.push(chunk);
      }
    })();
    const error = await storageErrorOf(reading);
    await replaced;

    expect(error.code).toBe('object_changed');
    expect(error.status).toBe(409);
    const received = Buffer.concat(chunks);
    expect(received.length).toBeGreaterThan(0);
    expect(received.length).toBeLessThan(original.length);
    expect(received.equals(original.subarray(0, received.length))).toBe(true);
  });
});
