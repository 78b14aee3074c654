import { randomUUID } from 'node:crypto';
import { createWriteStream, type Stats } from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { abortedError, StorageError, type BlobInfo, type BlobLocation, type BlobStore, type ReadOptions, type WriteOptions } from './blob-store.js';
import { localRelativePath, validateLocalPath } from './local-path.js';

/** Large reads are sequential; 1 MiB chunks keep syscalls few while memory stays bounded. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Blobs as files under one root directory (see BlobLocation for how bucket and key map to paths).
 * Every location is confined to the root by validateLocalPath before any file is touched.
 */
export class LocalBlobStore implements BlobStore {
  readonly kind = 'local';

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
      for await (const chunk of handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES, signal }) as AsyncIterable<Buffer>) {
        bytesRead += chunk.byteLength;
        onProgress?.(bytesRead, totalBytes);
        yield chunk;
      }
    } catch (error) {
      if (signal?.aborted) throw abortedError(signal, `reading ${describe(location)}`);
      throw fromFsError(error, location);
    }
  }

  /** Writes to a temporary file next to the target and renames it into place, so readers see
   * either the old blob or the complete new one, never a partial file. The file is flushed to disk
   * before the rename: a job accepted on the strength of a stored upload must survive a power
   * loss, not only a crash of the process. */
  async write(location: BlobLocation, body: NodeJS.ReadableStream | Buffer, options: WriteOptions = {}): Promise<BlobInfo> {
    const file = await this.resolve(location);
    const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.tmp`);
    const { signal } = options;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      const source = Buffer.isBuffer(body) ? Readable.from([body]) : body;
      await pipeline(source, createWriteStream(temporary, { flags: 'wx', flush: true }), { signal });
      await rename(temporary, file);
      await syncDirectory(path.dirname(file));
      return blobInfoOf(await stat(file));
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

  private resolve(location: BlobLocation): Promise<string> {
    return validateLocalPath(this.root, localRelativePath(location));
  }
}

function blobInfoOf(stats: Stats): BlobInfo {
  // Size plus mtime is a weak validator, but enough to notice that a file was replaced.
  return { size: stats.size, etag: `${stats.size}-${stats.mtimeMs}`, lastModified: stats.mtime };
}

function requireFile(stats: Stats, location: BlobLocation): Stats {
  if (!stats.isFile()) throw new StorageError('invalid_location', `${describe(location)} is not a regular file`);
  return stats;
}

function describe(location: BlobLocation): string {
  return `local file "${localRelativePath(location)}"`;
}

function fromFsError(error: unknown, location: BlobLocation): Error {
  if (error instanceof StorageError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new StorageError('not_found', `${describe(location)} does not exist`, { cause: error });
  }
  if (code === 'EISDIR') return new StorageError('invalid_location', `${describe(location)} is a directory`, { cause: error });
  return new StorageError('storage_unavailable', `${describe(location)} is not accessible: ${(error as Error).message}`, { cause: error });
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
