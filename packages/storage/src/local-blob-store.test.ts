import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { StorageError } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { validateLocalPath } from './local-path.js';

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function caught(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

describe('LocalBlobStore', () => {
  let sandbox: string;
  let root: string;
  let outside: string;
  let store: LocalBlobStore;

  beforeEach(async () => {
    sandbox = await mkdtemp(path.join(tmpdir(), 'local-blob-store-'));
    root = path.join(sandbox, 'root');
    outside = path.join(sandbox, 'outside');
    await mkdir(root);
    await mkdir(outside);
    await writeFile(path.join(outside, 'secret.txt'), 'secret');
    store = new LocalBlobStore(root);
  });

  /** Every way a key reaches the disk: the store's four operations and the path check itself. */
  const everyOperation = (key: string) => [
    () => store.stat({ key }),
    () => collect(store.read({ key })),
    () => store.write({ key }, Buffer.from('x')),
    () => store.delete({ key }),
    () => validateLocalPath(root, key),
  ];

  afterEach(() => rm(sandbox, { recursive: true, force: true }));

  it('writes, stats, reads and deletes a blob, with the bucket as a top-level folder', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 17);
    const location = { bucket: 'uploads', key: 'nested/dir/data.bin' };
    const progress: number[] = [];

    const written = await store.write(
      location,
      Readable.from([content.subarray(0, 1000), content.subarray(1000)]),
    );
    const stat = await store.stat(location);
    const read = await collect(store.read(location, { onProgress: (bytesRead) => progress.push(bytesRead) }));

    expect(written).toEqual(stat);
    expect(stat.size).toBe(content.length);
    expect(stat.etag).toMatch(new RegExp(`^${content.length}-[0-9.]+$`));
    expect(read.equals(content)).toBe(true);
    expect(progress.at(-1)).toBe(content.length);
    expect(progress.length).toBe(4); // 1 MiB chunks
    // No temporary file is left next to the blob.
    expect(await readdir(path.join(root, 'uploads/nested/dir'))).toEqual(['data.bin']);

    await store.delete(location);
    await store.delete(location); // idempotent
    expect((await caught(store.stat(location))).code).toBe('not_found');
  });

  it('replaces a blob atomically and changes its etag', async () => {
    const location = { key: 'a.txt' };
    const first = await store.write(location, Buffer.from('first'));
    const second = await store.write(location, Buffer.from('second!'));
    expect(second.etag).not.toBe(first.etag);
    expect((await collect(store.read(location))).toString()).toBe('second!');
  });

  it('reads a whole blob into one Buffer, refusing one over maxBytes with too_large (413)', async () => {
    const content = randomBytes(2 * 1024 * 1024 + 5);
    const location = { bucket: 'images', key: 'originals/a' };
    await store.write(location, content);
    expect((await store.readAll(location, { maxBytes: content.length })).equals(content)).toBe(true);

    const tooLarge = await caught(store.readAll(location, { maxBytes: content.length - 1 }));
    expect(tooLarge.code).toBe('too_large');
    expect(tooLarge.status).toBe(413);
    expect((await caught(store.readAll({ key: 'missing' }, { maxBytes: 10 }))).code).toBe('not_found');
    expect((await caught(store.readAll({ key: '../outside/secret.txt' }, { maxBytes: 10 }))).code).toBe(
      'path_outside_root',
    );
  });

  it('writes again into a folder deleted since its last write there', async () => {
    const location = { bucket: 'images', key: 'results/a.jpg' };
    await store.write(location, Buffer.from('first'));
    await rm(path.join(root, 'images'), { recursive: true });
    await store.write(location, Buffer.from('second'));
    expect((await store.readAll(location, { maxBytes: 100 })).toString()).toBe('second');
  });

  it.each([
    ['a ".." segment', '../outside/secret.txt'],
    ['a ".." segment that stays inside', 'a/../b.txt'],
    ['an absolute path outside the root', '/etc/passwd'],
    ['a NUL byte', 'file\0.txt'],
  ])('refuses %s with path_outside_root (400)', async (_label, key) => {
    for (const operation of everyOperation(key)) {
      const error = await caught(operation());
      expect(error.code).toBe('path_outside_root');
      expect(error.status).toBe(400);
    }
  });

  it('refuses a symlink loop with invalid_location (400), for every operation', async () => {
    await symlink(path.join(root, 'ping'), path.join(root, 'pong'));
    await symlink(path.join(root, 'pong'), path.join(root, 'ping'));
    await symlink('self', path.join(root, 'self'));
    for (const key of ['ping', 'pong/data.csv', 'self/data.csv']) {
      for (const operation of everyOperation(key)) {
        const error = await caught(operation());
        expect(error).toMatchObject({
          code: 'invalid_location',
          status: 400,
          message: expect.stringContaining('symlinks form a loop'),
        });
      }
    }
  });

  it.each([
    ['a 300-byte name', `in/${'n'.repeat(300)}.csv`, 'has a name of 304 bytes'],
    ['a 256-byte name in two-byte characters', `${'é'.repeat(128)}.csv`, 'has a name of 260 bytes'],
    ['a 4,096-character path of short names', 'ab/'.repeat(1_365) + 'c', 'is too long'],
    ['a path that only the root makes too long', `${'d/'.repeat(2_040)}x.csv`, 'is too long'],
  ])(
    'refuses %s with invalid_location (400) before touching the file system',
    async (_label, key, messagePart) => {
      for (const operation of [
        () => store.stat({ key }),
        () => store.write({ key }, Buffer.from('x')),
        () => validateLocalPath(root, key),
      ]) {
        const error = await caught(operation());
        expect(error).toMatchObject({
          code: 'invalid_location',
          status: 400,
          message: expect.stringContaining(messagePart),
        });
      }
      expect(await readdir(root)).toEqual([]);
    },
  );

  it('writes names of exactly 255 bytes, through a temporary file whose name stays legal too', async () => {
    for (const key of ['n'.repeat(255), `${'é'.repeat(127)}n`]) {
      expect(Buffer.byteLength(key)).toBe(255);
      await store.write({ key }, Buffer.from('x'));
      expect((await store.stat({ key })).size).toBe(1);
    }
    expect((await readdir(root)).length).toBe(2);
  });

  it('accepts an absolute path inside the root', async () => {
    await writeFile(path.join(root, 'inside.txt'), 'inside');
    expect((await collect(store.read({ key: path.join(root, 'inside.txt') }))).toString()).toBe('inside');
  });

  it('refuses symlinks that lead out of the root, for reads and writes', async () => {
    await symlink(path.join(outside, 'secret.txt'), path.join(root, 'file-link'));
    await symlink(outside, path.join(root, 'dir-link'));

    expect((await caught(collect(store.read({ key: 'file-link' })))).code).toBe('path_outside_root');
    expect((await caught(store.stat({ key: 'dir-link/secret.txt' }))).code).toBe('path_outside_root');
    expect((await caught(store.write({ key: 'dir-link/new.txt' }, Buffer.from('x')))).code).toBe(
      'path_outside_root',
    );
    expect((await caught(store.write({ key: 'dir-link/deeper/new.txt' }, Buffer.from('x')))).code).toBe(
      'path_outside_root',
    );
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });

  it('follows symlinks that stay inside the root', async () => {
    await mkdir(path.join(root, 'real'));
    await writeFile(path.join(root, 'real/data.txt'), 'data');
    await symlink(path.join(root, 'real'), path.join(root, 'alias'));
    await expect(validateLocalPath(root, 'alias/data.txt')).resolves.toBe(path.join(root, 'real/data.txt'));
    expect((await collect(store.read({ key: 'alias/data.txt' }))).toString()).toBe('data');
  });

  it('reports a missing file as not_found at once', async () => {
    const started = Date.now();
    const error = await caught(collect(store.read({ key: 'missing/file.csv' })));
    expect(error.code).toBe('not_found');
    expect(error.status).toBe(404);
    expect(error.message).toContain('missing/file.csv');
    expect(Date.now() - started).toBeLessThan(200);
    expect((await caught(store.stat({ bucket: 'nobucket', key: 'file.csv' }))).code).toBe('not_found');
  });

  it('refuses locations that are not files', async () => {
    await mkdir(path.join(root, 'dir'));
    expect((await caught(store.stat({ key: 'dir' }))).code).toBe('invalid_location');
    expect((await caught(collect(store.read({ key: 'dir' })))).code).toBe('invalid_location');
    expect((await caught(store.stat({ key: '' }))).code).toBe('invalid_location');
    expect((await caught(store.stat({ key: '.' }))).code).toBe('invalid_location');
    expect((await caught(store.stat({ bucket: '../x', key: 'a' }))).code).toBe('invalid_location');
  });

  it('stops a read when the signal aborts and leaves no partial file after an aborted write', async () => {
    await store.write({ key: 'big.bin' }, randomBytes(4 * 1024 * 1024));
    const controller = new AbortController();
    let chunks = 0;
    const reading = (async () => {
      for await (const _chunk of store.read({ key: 'big.bin' }, { signal: controller.signal })) {
        chunks += 1;
        controller.abort();
      }
    })();
    expect((await caught(reading)).code).toBe('aborted');
    expect(chunks).toBe(1);

    const writeController = new AbortController();
    const endless = new Readable({ read() {} });
    endless.push(Buffer.alloc(1024));
    const writing = store.write({ key: 'partial.bin' }, endless, { signal: writeController.signal });
    setTimeout(() => writeController.abort(), 50);
    expect((await caught(writing)).code).toBe('aborted');
    expect((await readdir(root)).sort()).toEqual(['big.bin']);
  });
});
