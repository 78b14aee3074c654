import { classifyS3Error, storageErrorFromS3 } from './s3-errors.js';

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
    ['AccessDenied', 403, 'rejected'],
    ['InvalidArgument', 400, 'rejected'],
  ])('%s (%i) is %s', (name, status, kind) => {
    expect(classifyS3Error(serviceError(name, status))).toBe(kind);
  });

  it('retries failures that never got a response', () => {
    expect(classifyS3Error(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe('retryable');
    expect(classifyS3Error(Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }))).toBe('retryable');
  });
});

describe('storageErrorFromS3', () => {
  it('names the object, the operation and the S3 error', () => {
    const error = storageErrorFromS3(serviceError('AccessDenied', 403), 'HeadObject', 's3://b/k');
    expect(error).toMatchObject({ code: 'storage_unavailable', status: 503 });
    expect(error.message).toBe('HeadObject s3://b/k failed: AccessDenied, HTTP 403: AccessDenied happened');
  });
});
