import { LocalBlobStore, S3BlobStore, type BlobStore, type S3StoreOptions } from '@conveyor/storage';

/** Everything needed to open a store, as plain data a worker thread can receive. */
export interface StoreSettings {
  localRoot: string;
  s3: S3StoreOptions;
}

export function openBlobStore(kind: 'local' | 's3', settings: StoreSettings): BlobStore {
  return kind === 'local' ? new LocalBlobStore(settings.localRoot) : new S3BlobStore(settings.s3);
}
