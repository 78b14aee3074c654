import { randomUUID } from 'node:crypto';
import type { Stats } from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { addAbortSignal, Readable } from 'node:stream';
import {
  abortedError,
  StorageError,
  tooLargeError,
  type BlobInfo,
  type BlobLocation,
  type BlobStore,
  type ReadAllOptions,
  type ReadOptions,
  type WriteOptions,
} from './blob-store.js';
import { remainderAfter } from './buffer-list.js';
import { DirectorySyncs } from './directory-syncs.js';
import { canonicalRoot, impossiblePath, localRelativePath, validateLocalPath } from './local-path.js';

/** Large reads are sequential; 1 MiB chunks keep syscalls few while memory stays bounded. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** A streamed write holds at most this much (plus one chunk) before writing it: bounded memory per upload, few writes. */
const WRITE_GATHER_BYTES = 1024 * 1024;

/**
 * Blobs as files under one root directory (see BlobLocation for how bucket and key map to paths).
 * Every location is confined to the root by validateLocalPath before any file is touched.
 */
export class LocalBlobStore implements BlobStore {
  readonly kind = 'local';
  /** Renames into the same folder at about the same time share one directory fsync. */
  private readonly directorySyncs = new DirectorySyncs(syncDirectory);
  /** The root's canonical path, resolved once (it is configuration); forgotten if resolving failed. */
  private realRoot: Promise<string> | undefined;

  constructor(private readonly root: string) {}

  async stat(location: BlobLocation): Promise<BlobInfo> {
    const file = await this.resolve(location);
    try {
      return blobInfoOf(requireFile(await stat(file), location));
    } catch (error) {
      throw fromFsError(error, location);
    }
  }

  async *read(location: BlobLocation, options: ReadOptions = {}): AsyncGenerator<Uint8Array> {
    const file = await this.resolve(location);
    const { signal, onProgress } = options;
    // Size from the opened handle, not the path, so progress describes the file actually read.
    const handle = await open(file, 'r').catch((error: unknown) => {
      throw fromFsError(error, location);
    });
    let totalBytes: number;
    try {
      totalBytes = requireFile(await handle.stat(), location).size;
    } catch (error) {
      await handle.close();
      throw fromFsError(error, location);
    }
    let bytesRead = 0;
    try {
      for await (const chunk of handle.createReadStream({
        highWaterMark: READ_CHUNK_BYTES,
        signal,
      }) as AsyncIterable<Buffer>) {
        bytesRead += chunk.byteLength;
        onProgress?.(bytesRead, totalBytes);
        yield chunk;
      }
    } catch (error) {
      if (signal?.aborted) throw abortedError(signal, `reading ${describe(location)}`);
      throw fromFsError(error, location);
    }
  }

  /** One open, fstat, read and close: no stream, and the Buffer is allocated once at the file's size. */
  async readAll(location: BlobLocation, options: ReadAllOptions): Promise<Buffer> {
    const { signal, maxBytes } = options;
    signal?.throwIfAborted();
    const file = await this.resolve(location);
    const handle = await open(file, 'r').catch((error: unknown) => {
      throw fromFsError(error, location);
    });
    try {
      const { size } = requireFile(await handle.stat(), location);
      if (size > maxBytes) throw tooLargeError(describe(location), maxBytes);
      const data = Buffer.allocUnsafe(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await handle.read(data, filled, size - filled, filled);
        if (bytesRead === 0) break; // Blobs are replaced by rename, never truncated in place; defensive only.
        filled += bytesRead;
      }
      if (signal?.aborted) throw abortedError(signal, `reading ${describe(location)}`);
      return filled === size ? data : data.subarray(0, filled);
    } catch (error) {
      throw fromFsError(error, location);
    } finally {
      await handle.close();
    }
  }

  /** Writes to a temporary file next to the target and renames it into place, so readers see
   * either the old blob or the complete new one, never a partial file. The file is flushed to disk
   * before the rename: a job accepted on the strength of a stored upload must survive a power
   * loss, not only a crash of the process. */
  async write(
    location: BlobLocation,
    body: NodeJS.ReadableStream | Buffer,
    options: WriteOptions = {},
  ): Promise<BlobInfo> {
    const file = await this.resolve(location);
    const directory = path.dirname(file);
    const temporary = path.join(directory, temporaryName(path.basename(file)));
    const { signal } = options;
    try {
      signal?.throwIfAborted();
      const handle = await openNew(temporary, directory);
      let info: BlobInfo;
      try {
        if (Buffer.isBuffer(body)) await handle.writeFile(body);
        else await writeChunks(handle, body, signal);
        await handle.sync();
        // The rename keeps the file's mtime, so the handle's stat is the blob's.
        info = blobInfoOf(await handle.stat());
      } finally {
        await handle.close();
      }
      signal?.throwIfAborted();
      await rename(temporary, file);
      await this.directorySyncs.sync(directory);
      return info;
    } catch (error) {
      await rm(temporary, { force: true });
      if (signal?.aborted) throw abortedError(signal, `writing ${describe(location)}`);
      throw fromFsError(error, location);
    }
  }

  async delete(location: BlobLocation): Promise<void> {
    const file = await this.resolve(location);
    try {
      await unlink(file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw fromFsError(error, location);
    }
  }

  private async resolve(location: BlobLocation): Promise<string> {
    const relative = localRelativePath(location);
    this.realRoot ??= canonicalRoot(this.root);
    const realRoot = await this.realRoot.catch((error: unknown) => {
      this.realRoot = undefined;
      throw error;
    });
    return validateLocalPath(this.root, relative, realRoot);
  }
}

/** Bytes the temporary name adds to the blob's own: ".", ".", a UUID and ".tmp". */
const TEMPORARY_SUFFIX_BYTES = 42;
/** Longest name a file system takes (NAME_MAX), in bytes. */
const MAX_NAME_BYTES = 255;

/**
 * `.<name>.<uuid>.tmp`, the name cut short enough that the whole stays a legal file name: a blob
 * may have a name of up to 255 bytes, its temporary file too.
 */
function temporaryName(name: string): string {
  let kept = '';
  let bytes = 0;
  for (const character of name) {
    bytes += Buffer.byteLength(character);
    if (bytes > MAX_NAME_BYTES - TEMPORARY_SUFFIX_BYTES) break;
    kept += character;
  }
  return `.${kept}.${randomUUID()}.tmp`;
}

function blobInfoOf(stats: Stats): BlobInfo {
  // Size plus mtime is a weak validator, but enough to notice that a file was replaced.
  return { size: stats.size, etag: `${stats.size}-${stats.mtimeMs}`, lastModified: stats.mtime };
}

function requireFile(stats: Stats, location: BlobLocation): Stats {
  if (!stats.isFile())
    throw new StorageError('invalid_location', `${describe(location)} is not a regular file`);
  return stats;
}

function describe(location: BlobLocation): string {
  return `local file "${localRelativePath(location)}"`;
}

function fromFsError(error: unknown, location: BlobLocation): Error {
  if (error instanceof StorageError) return error;
  const impossible = impossiblePath(localRelativePath(location), error);
  if (impossible) return impossible;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new StorageError('not_found', `${describe(location)} does not exist`, { cause: error });
  }
  if (code === 'EISDIR')
    return new StorageError('invalid_location', `${describe(location)} is a directory`, { cause: error });
  return new StorageError(
    'storage_unavailable',
    `${describe(location)} is not accessible: ${(error as Error).message}`,
    { cause: error },
  );
}

/**
 * Writes a stream's chunks to the handle in order, gathered into writes of about
 * WRITE_GATHER_BYTES (a socket delivers an upload in 16–64 KiB chunks, and every write is a trip
 * through libuv's thread pool that costs the event loop far more than the copy it saves). An abort
 * destroys the source, which ends the loop with an error.
 */
async function writeChunks(
  handle: FileHandle,
  body: NodeJS.ReadableStream,
  signal: AbortSignal | undefined,
): Promise<void> {
  const source = body instanceof Readable ? body : new Readable().wrap(body);
  if (signal) addAbortSignal(signal, source);
  let gathered: Buffer[] = [];
  let gatheredBytes = 0;
  for await (const chunk of source as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    gathered.push(buffer);
    gatheredBytes += buffer.length;
    if (gatheredBytes >= WRITE_GATHER_BYTES) {
      await writeAll(handle, gathered);
      gathered = [];
      gatheredBytes = 0;
    }
  }
  if (gatheredBytes > 0) await writeAll(handle, gathered);
}

/** writev() until every byte is written: a regular file may take fewer bytes than offered. */
async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let pending = buffers;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending);
    pending = remainderAfter(pending, bytesWritten);
  }
}

/** Creates `file` exclusively; its folder is created only when missing (the first write there), not before every write. */
async function openNew(file: string, directory: string): Promise<FileHandle> {
  try {
    return await open(file, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(directory, { recursive: true });
    return open(file, 'wx');
  }
}

/** Makes a rename in `directory` durable: until the directory itself is synced, a power loss may forget it. */
async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
