import { errorMessage } from '@conveyor/platform';
import { StorageError } from './blob-store.js';

/** How a failed S3 request should be treated. */
export type S3FailureKind = 'not_found' | 'precondition_failed' | 'retryable' | 'configuration' | 'rejected';

const NOT_FOUND_NAMES = new Set(['NoSuchBucket', 'NoSuchKey', 'NotFound']);
/** Error names S3 uses for "slow down / try again", whatever status carries them. */
const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestTimeout',
  'InternalError',
  'ServiceUnavailable',
  'OperationAborted',
]);
/**
 * Refusals caused by the service's own set-up (credentials, clock, region), some of them sent
 * with a 400: they say nothing about the location a client gave.
 */
const CONFIGURATION_NAMES = new Set([
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AuthorizationHeaderMalformed',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'RequestTimeTooSkewed',
]);

interface SdkErrorShape {
  name?: string;
  $metadata?: { httpStatusCode?: number };
}

function httpStatusOf(error: unknown): number | undefined {
  return (error as SdkErrorShape | undefined)?.$metadata?.httpStatusCode;
}

/**
 * Errors without an HTTP status never got a response (refused, reset, timed out, body cut off):
 * another attempt may well succeed; so may one after 5xx and throttling. A refusal of the
 * service's set-up (credentials, permissions, region: 401, 403, redirects) is `configuration`:
 * it fails the same way until an operator fixes it, and then the waiting jobs should succeed.
 * Any other 4xx (InvalidBucketName, KeyTooLongError, InvalidArgument...) is `rejected`: the
 * request itself is wrong and will fail the same way however often it is sent.
 */
export function classifyS3Error(error: unknown): S3FailureKind {
  const name = (error as SdkErrorShape | undefined)?.name ?? '';
  const status = httpStatusOf(error);
  if (NOT_FOUND_NAMES.has(name) || status === 404) return 'not_found';
  if (name === 'PreconditionFailed' || status === 412 || status === 416) return 'precondition_failed';
  if (status === undefined || status >= 500 || status === 429 || status === 408 || TRANSIENT_NAMES.has(name))
    return 'retryable';
  if (status === 401 || status === 403 || status < 400 || CONFIGURATION_NAMES.has(name))
    return 'configuration';
  return 'rejected';
}

/**
 * The StorageError for a request that failed for good (the SDK has already retried what it
 * could), or undefined when another attempt may succeed; a reader then tries again itself.
 */
export function permanentS3Error(
  error: unknown,
  operation: string,
  objectName: string,
): StorageError | undefined {
  const detail = describeS3Error(error);
  switch (classifyS3Error(error)) {
    case 'not_found':
      return new StorageError(
        'not_found',
        `${objectName} does not exist (${detail}); check the bucket and key`,
        { cause: error },
      );
    case 'precondition_failed':
      return new StorageError(
        'object_changed',
        `${operation} ${objectName}: a precondition failed (${detail})`,
        { cause: error },
      );
    case 'configuration':
      return new StorageError(
        'storage_unavailable',
        `${operation} ${objectName} was denied (${detail}); check the service's S3 credentials, clock, region and the bucket's policy`,
        {
          cause: error,
        },
      );
    case 'rejected':
      return new StorageError(
        'storage_refused',
        `${operation} ${objectName} was refused by the storage server (${detail}); the same request would fail again`,
        {
          cause: error,
        },
      );
    case 'retryable':
      return undefined;
  }
}

/** The StorageError for a failed stat, write or delete (the SDK has already retried what it could). */
export function storageErrorFromS3(error: unknown, operation: string, objectName: string): StorageError {
  if (error instanceof StorageError) return error;
  return (
    permanentS3Error(error, operation, objectName) ??
    new StorageError('storage_unavailable', `${operation} ${objectName} failed: ${describeS3Error(error)}`, {
      cause: error,
    })
  );
}

export function describeS3Error(error: unknown): string {
  const status = httpStatusOf(error);
  const name = (error as SdkErrorShape | undefined)?.name;
  const prefix = [name, status === undefined ? undefined : `HTTP ${status}`].filter(Boolean).join(', ');
  return prefix ? `${prefix}: ${errorMessage(error)}` : errorMessage(error);
}
