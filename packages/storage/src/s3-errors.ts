import { errorMessage } from '@conveyor/platform';
import { StorageError } from './blob-store.js';

/** How a failed S3 request should be treated. */
export type S3FailureKind = 'not_found' | 'precondition_failed' | 'retryable' | 'rejected';

const NOT_FOUND_NAMES = new Set(['NoSuchBucket', 'NoSuchKey', 'NotFound']);
/** Error names S3 uses for "slow down / try again", whatever status carries them. */
const TRANSIENT_NAMES = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'InternalError', 'ServiceUnavailable']);

interface SdkErrorShape {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

export function httpStatusOf(error: unknown): number | undefined {
  return (error as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/**
 * Errors without an HTTP status never got a response (refused, reset, timed out, body cut off):
 * another attempt may well succeed. With a status, 5xx and throttling are transient; other 4xx
 * (access denied, bad request) will fail the same way again.
 */
export function classifyS3Error(error: unknown): S3FailureKind {
  const name = (error as SdkErrorShape | undefined)?.name ?? '';
  const status = httpStatusOf(error);
  if (NOT_FOUND_NAMES.has(name) || status === 404) return 'not_found';
  if (name === 'PreconditionFailed' || status === 412 || status === 416) return 'precondition_failed';
  if (status === undefined || status >= 500 || status === 429 || TRANSIENT_NAMES.has(name)) return 'retryable';
  return 'rejected';
}

/** The StorageError for a failed stat, write or delete (the SDK has already retried what it could). */
export function storageErrorFromS3(error: unknown, operation: string, objectName: string): StorageError {
  if (error instanceof StorageError) return error;
  const detail = describeS3Error(error);
  switch (classifyS3Error(error)) {
    case 'not_found':
      return new StorageError('not_found', `${objectName} does not exist (${detail}); check the bucket and key`, { cause: error });
    case 'precondition_failed':
      return new StorageError('object_changed', `${operation} ${objectName}: a precondition failed (${detail})`, { cause: error });
    case 'retryable':
    case 'rejected':
      return new StorageError('storage_unavailable', `${operation} ${objectName} failed: ${detail}`, { cause: error });
  }
}

export function describeS3Error(error: unknown): string {
  const status = httpStatusOf(error);
  const name = (error as SdkErrorShape | undefined)?.name;
  const prefix = [name, status === undefined ? undefined : `HTTP ${status}`].filter(Boolean).join(', ');
  return prefix ? `${prefix}: ${errorMessage(error)}` : errorMessage(error);
}
