/**
 * Runs in a worker thread: reading and summing a multi-GB CSV is CPU-bound and must never stall
 * the consumer's event loop. The worker opens its own storage client, streams the object
 * (resuming broken S3 reads), sums it, and reports progress as bytes read of the total.
 */
import type { CsvSumInput, CsvSumResult } from './contract.js';
import {
  openBlobStore,
  StorageError,
  type BlobLocation,
  type StorageErrorCode,
  type StoreSettings,
} from '@conveyor/storage';
import type { PooledTaskControl } from '@conveyor/runtime';
import { CsvSumError, sumCsvStream } from './domain/index.js';

export interface CsvSumTask {
  input: CsvSumInput;
  settings: StoreSettings;
}

export type CsvSumOutcome =
  | { type: 'done'; result: CsvSumResult }
  | { type: 'stopped' }
  | { type: 'failed'; code: string; message: string; permanent: boolean };

const STOP_POLL_MS = 50;
const PROGRESS_EVERY_MS = 200;
/**
 * Storage failures that retrying the job cannot fix: the job fails at once, with the specific
 * code, rather than going through every retry tier to end as `storage_unavailable`. The sums of
 * a file replaced mid-read (`object_changed`) mean nothing: the client resubmits if it meant to.
 */
function isPermanent(code: StorageErrorCode): boolean {
  switch (code) {
    case 'not_found':
    case 'path_outside_root':
    case 'invalid_location':
    case 'storage_refused':
    case 'object_changed':
    case 'too_large':
      return true;
    case 'storage_unavailable':
    case 'too_many_failures':
    case 'aborted':
      return false;
  }
}

export default async function runCsvSum(task: CsvSumTask & PooledTaskControl): Promise<CsvSumOutcome> {
  const stop = new AbortController();
  const stopFlag = new Int32Array(task.stopFlag);
  const poll = setInterval(() => {
    if (Atomics.load(stopFlag, 0) !== 0) stop.abort(new Error('stopped'));
  }, STOP_POLL_MS);
  try {
    const { input } = task;
    const store = openBlobStore(input.storage, task.settings);
    const location: BlobLocation =
      input.storage === 's3' ? { bucket: input.bucket, key: input.key } : { key: input.path };
    const info = await store.stat(location);
    let lastReport = 0;
    const source = store.read(location, {
      signal: stop.signal,
      onProgress: (bytesRead) => {
        const now = Date.now();
        if (now - lastReport < PROGRESS_EVERY_MS) return;
        lastReport = now;
        task.progressPort.postMessage({
          fraction: info.size > 0 ? bytesRead / info.size : 0,
          message: `${bytesRead} of ${info.size} bytes read`,
        });
      },
    });
    const result = await sumCsvStream(
      source,
      { every: input.every, delimiter: input.delimiter, header: input.header },
      { signal: stop.signal },
    );
    return { type: 'done', result };
  } catch (error) {
    if (stop.signal.aborted) return { type: 'stopped' };
    if (error instanceof CsvSumError)
      return { type: 'failed', code: error.code, message: error.message, permanent: true };
    if (error instanceof StorageError)
      return { type: 'failed', code: error.code, message: error.message, permanent: isPermanent(error.code) };
    throw error;
  } finally {
    clearInterval(poll);
    task.progressPort.close();
  }
}
