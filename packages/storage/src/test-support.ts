// Helpers shared by this package's tests; excluded from the build (see tsconfig.json).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { StorageError } from './blob-store.js';

export const MB = 1024 * 1024;

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

/** A stream of `content` in 1 MiB pieces, so uploads cannot know the length up front. */
export function streamOf(content: Buffer): Readable {
  return Readable.from(
    (function* pieces() {
      for (let offset = 0; offset < content.length; offset += MB) yield content.subarray(offset, offset + MB);
    })(),
  );
}

export async function storageErrorOf(promise: Promise<unknown>): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

/** Client options s3rver needs: any credentials, path-style URLs. */
export const S3RVER_CLIENT = {
  region: 'us-east-1',
  accessKeyId: 'S3RVER',
  secretAccessKey: 'S3RVER',
  forcePathStyle: true,
} as const;
