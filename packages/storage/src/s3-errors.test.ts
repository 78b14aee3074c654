import { classifyS3Error, permanentS3Error, storageErrorFromS3 } from './s3-errors.js';

/** The shape of an SDK service error: a name and the HTTP status in $metadata. */
function serviceError(name: string, httpStatusCode: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode } });
}

describe('classifyS3Error', () => {
  it.each([
    ['NoSuchKey', 404, 'not_found'],
    ['NoSuchBucket', 404, 'not_found'],
    ['NotFound', 404, 'not_found'],
    ['PreconditionFailed', 412, 'precondition_failed'],
    ['InvalidRange', 416, 'precondition_failed'],
    ['SlowDown', 503, 'retryable'],
    ['TooManyRequests', 429, 'retryable'],
    ['InternalError', 500, 'retryable'],
    ['RequestTimeout', 400, 'retryable'],
    ['OperationAborted', 409, 'retryable'],
    ['AccessDenied', 403, 'configuration'],
    ['Forbidden', 403, 'configuration'],
    ['InvalidAccessKeyId', 403, 'configuration'],
    ['ExpiredToken', 400, 'configuration'],
    ['AuthorizationHeaderMalformed', 400, 'configuration'],
    ['PermanentRedirect', 301, 'configuration'],
    ['InvalidBucketName', 400, 'rejected'],
    ['KeyTooLongError', 400, 'rejected'],
    ['InvalidArgument', 400, 'rejected'],
    // A HEAD answer has no body: the SDK names the error after the status.
    ['BadRequest', 400, 'rejected'],
    ['MethodNotAllowed', 405, 'rejected'],
  ])('%s (%i) is %s', (name, status, kind) => {
    expect(classifyS3Error(serviceError(name, status))).toBe(kind);
  });

  it('retries failures that never got a response', () => {
    expect(classifyS3Error(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(
      'retryable',
    );
    expect(classifyS3Error(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }))).toBe(
      'retryable',
    );
  });
});

describe('storageErrorFromS3', () => {
  it('names the object, the operation and the S3 error', () => {
    const error = storageErrorFromS3(serviceError('SlowDown', 503), 'HeadObject', 's3://b/k');
    expect(error).toMatchObject({ code: 'storage_unavailable', status: 503 });
    expect(error.message).toBe('HeadObject s3://b/k failed: SlowDown, HTTP 503: SlowDown happened');
  });

  it('leaves a refusal of the service’s own credentials to the retries, for an operator to fix', () => {
    const error = storageErrorFromS3(serviceError('AccessDenied', 403), 'HeadObject', 's3://b/k');
    expect(error).toMatchObject({ code: 'storage_unavailable', status: 503 });
    expect(error.message).toBe(
      "HeadObject s3://b/k was denied (AccessDenied, HTTP 403: AccessDenied happened); check the service's S3 credentials, clock, region and the bucket's policy",
    );
  });

  it('makes a request the server refuses a permanent storage_refused, not storage_unavailable', () => {
    for (const name of ['InvalidBucketName', 'KeyTooLongError', 'BadRequest']) {
      const error = storageErrorFromS3(serviceError(name, 400), 'HeadObject', 's3://b/k');
      expect(error).toMatchObject({ code: 'storage_refused', status: 502 });
      expect(error.message).toContain(`was refused by the storage server (${name}, HTTP 400`);
    }
  });
});

describe('permanentS3Error', () => {
  it('is undefined for what another attempt may fix', () => {
    expect(permanentS3Error(serviceError('InternalError', 500), 'GetObject', 's3://b/k')).toBeUndefined();
    expect(permanentS3Error(new Error('socket hang up'), 'GetObject', 's3://b/k')).toBeUndefined();
    expect(permanentS3Error(serviceError('NoSuchKey', 404), 'GetObject', 's3://b/k')?.code).toBe('not_found');
  });
});
