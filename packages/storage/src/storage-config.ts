import { z } from 'zod';
import { env } from '@conveyor/platform';
import type { BlobStore } from './blob-store.js';
import { LocalBlobStore } from './local-blob-store.js';
import { S3BlobStore, type S3StoreOptions } from './s3-blob-store.js';

/** Storage variables, shared by every service that reads or writes blobs. */
export const storageEnvShape = {
  /** Folder that local storage (and `storage: "local"` CSV paths) is confined to. Default ./data. */
  STORAGE_ROOT: env.string('./data'),
  /** S3-compatible storage: endpoint (unset for AWS), region, credentials, path-style URLs. */
  S3_ENDPOINT: z.url().optional(),
  S3_REGION: env.string('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_FORCE_PATH_STYLE: env.bool(true),
  /** Silence on an S3 socket before the request fails (and a read resumes), in ms. Default 30000. */
  S3_REQUEST_TIMEOUT_MS: env.int(30_000, 1),
  /** Failed S3 read attempts in a row (without progress) before a read gives up. Default 8. */
  S3_MAX_READ_FAILURES: env.int(8, 1),
  /** Where uploaded images and their results live: `local` (under STORAGE_ROOT) or `s3`. Default local. */
  IMAGE_STORE: z.enum(['local', 's3']).default('local'),
  /** Bucket (or top-level folder, locally) for images. Default images. */
  IMAGE_BUCKET: env.string('images'),
};

type StorageEnv = z.infer<z.ZodObject<typeof storageEnvShape>>;

/** Everything needed to open a store, as plain data (a worker thread can receive it). */
export interface StoreSettings {
  localRoot: string;
  s3: S3StoreOptions;
}

export function storeSettingsFrom(config: StorageEnv): StoreSettings {
  return {
    localRoot: config.STORAGE_ROOT,
    s3: {
      endpoint: config.S3_ENDPOINT,
      region: config.S3_REGION,
      accessKeyId: config.S3_ACCESS_KEY_ID,
      secretAccessKey: config.S3_SECRET_ACCESS_KEY,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      requestTimeoutMs: config.S3_REQUEST_TIMEOUT_MS,
      maxReadFailures: config.S3_MAX_READ_FAILURES,
    },
  };
}

export function openBlobStore(kind: 'local' | 's3', settings: StoreSettings): BlobStore {
  return kind === 'local' ? new LocalBlobStore(settings.localRoot) : new S3BlobStore(settings.s3);
}
