import { AppError } from '@conveyor/platform';

/**
 * Where a blob lives. S3: `bucket` and `key` as usual. Local: `key` is a path relative to the
 * store's root and `bucket`, when given, is a top-level folder under the root, so the same
 * location can point at either store.
 */
export interface BlobLocation {
  bucket?: string;
  key: string;
}

export interface BlobInfo {
  size: number;
  /** Changes whenever the content changes (S3: the ETag header; local: `${size}-${mtimeMs}`). */
  etag: string;
  lastModified: Date;
  contentType?: string;
}

export interface RetryInfo {
  /** 1 for the first retry of this read, counting every retry. */
  attempt: number;
  /** Bytes already delivered; the retry resumes from here. */
  bytesRead: number;
  /** Why the previous attempt failed. */
  error: string;
}

export interface ReadOptions {
  signal?: AbortSignal;
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Called before each resumption, for logs and metrics. */
  onRetry?: (info: RetryInfo) => void;
}

export interface ReadAllOptions {
  signal?: AbortSignal;
  /** A larger blob is refused with `too_large` before it is read. */
  maxBytes: number;
}

export interface WriteOptions {
  contentType?: string;
  signal?: AbortSignal;
}

export interface BlobStore {
  readonly kind: 'local' | 's3';
  /** StorageError `not_found` at once (no retries) when the bucket, key or file is missing. */
  stat(location: BlobLocation): Promise<BlobInfo>;
  /** Streams the whole object in order; the S3 store resumes after network failures. */
  read(location: BlobLocation, options?: ReadOptions): AsyncIterable<Uint8Array>;
  /** The whole blob in one Buffer, for consumers that need it whole (an image decoder); `too_large` over `maxBytes`. */
  readAll(location: BlobLocation, options: ReadAllOptions): Promise<Buffer>;
  /** Streams `body` to the location; readers never see a partially written blob. */
  write(
    location: BlobLocation,
    body: NodeJS.ReadableStream | Buffer,
    options?: WriteOptions,
  ): Promise<BlobInfo>;
  /** Idempotent: deleting a missing blob succeeds. */
  delete(location: BlobLocation): Promise<void>;
}

export type StorageErrorCode =
  | 'not_found'
  | 'path_outside_root'
  | 'invalid_location'
  | 'object_changed'
  | 'storage_refused'
  | 'storage_unavailable'
  | 'too_many_failures'
  | 'too_large'
  | 'aborted';

const STATUS_BY_CODE: Record<StorageErrorCode, number> = {
  not_found: 404,
  path_outside_root: 400,
  // A location no store can hold: a symlink loop, a name too long for the file system.
  invalid_location: 400,
  object_changed: 409,
  // The storage server refused the request as invalid (an S3 4xx other than not-found or access):
  // sending it again fails the same way, and the client is not the one to fix our upstream.
  storage_refused: 502,
  storage_unavailable: 503,
  too_many_failures: 503,
  too_large: 413,
  // The caller gave up (shutdown, cancelled job); 499 is the "client closed request" convention.
  aborted: 499,
};

export class StorageError extends AppError {
  declare readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { status: STATUS_BY_CODE[code], cause: options.cause });
    this.name = 'StorageError';
  }
}

/** Collects a blob's chunks into one Buffer, refusing it with `too_large` as soon as it passes `maxBytes`. */
export async function collectBlob(
  chunks: AsyncIterable<Uint8Array>,
  maxBytes: number,
  what: string,
): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total > maxBytes) throw tooLargeError(what, maxBytes);
    parts.push(chunk);
  }
  return Buffer.concat(parts, total);
}

export function tooLargeError(what: string, maxBytes: number): StorageError {
  return new StorageError(
    'too_large',
    `${what} is larger than the ${maxBytes.toLocaleString('en')} bytes allowed`,
  );
}

/** What a read or write throws once its signal fired; the signal's reason stays as the cause. */
export function abortedError(signal: AbortSignal, what: string): StorageError {
  return new StorageError('aborted', `${what} was aborted`, { cause: signal.reason });
}
