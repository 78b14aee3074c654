import { abortError, classifyJobError, PermanentJobError, RetryJobError } from './job-errors.js';

describe('job errors', () => {
  it('PermanentJobError says "do not retry", with a code', () => {
    const error = new PermanentJobError('bad image', { code: 'bad_image', cause: new Error('inner') });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'PermanentJobError',
      permanent: true,
      code: 'bad_image',
      message: 'bad image',
    });
    expect(error.cause).toBeInstanceOf(Error);
    expect(new PermanentJobError('x').code).toBe('job_failed');
  });

  it('RetryJobError carries its delay', () => {
    expect(new RetryJobError('busy', { afterMs: 1500.4 })).toMatchObject({
      name: 'RetryJobError',
      retryAfterMs: 1500,
      message: 'busy',
    });
    expect(() => new RetryJobError('x', { afterMs: -1 })).toThrow(RangeError);
    expect(() => new RetryJobError('x', { afterMs: Number.NaN })).toThrow(RangeError);
  });
});

describe('classifyJobError', () => {
  it('reads the SDK classes', () => {
    expect(classifyJobError(new PermanentJobError('bad image', { code: 'bad_image' }))).toEqual({
      type: 'permanent',
      code: 'bad_image',
      message: 'bad image',
    });
    expect(classifyJobError(new RetryJobError('busy', { afterMs: 2000 }))).toEqual({
      type: 'retry',
      retryAfterMs: 2000,
      code: 'job_failed',
      message: 'busy',
    });
  });

  it('reads look-alikes by shape: a module that imports nothing has its own', () => {
    class PermanentJobError extends Error {
      override name = 'PermanentJobError';
    }
    expect(classifyJobError(new PermanentJobError('own class'))).toEqual({
      type: 'permanent',
      code: 'job_failed',
      message: 'own class',
    });
    expect(classifyJobError(Object.assign(new Error('flagged'), { permanent: true, code: 'nope' }))).toEqual({
      type: 'permanent',
      code: 'nope',
      message: 'flagged',
    });
    expect(classifyJobError(Object.assign(new Error('later'), { retryAfterMs: 300 }))).toEqual({
      type: 'retry',
      retryAfterMs: 300,
      code: 'job_failed',
      message: 'later',
    });
    expect(classifyJobError(Object.assign(new Error('later'), { retryAfterMs: -5 }))).toEqual({
      type: 'retry',
      code: 'job_failed',
      message: 'later',
    });
  });

  it('retries anything else, keeping a string code', () => {
    expect(
      classifyJobError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toEqual({ type: 'retry', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    expect(classifyJobError(Object.assign(new Error('numeric'), { code: 20 }))).toEqual({
      type: 'retry',
      code: 'job_failed',
      message: 'numeric',
    });
    expect(classifyJobError('a string')).toEqual({ type: 'retry', code: 'job_failed', message: 'a string' });
    expect(classifyJobError(null)).toEqual({ type: 'retry', code: 'job_failed', message: 'null' });
    expect(classifyJobError({ message: 'an object' })).toEqual({
      type: 'retry',
      code: 'job_failed',
      message: 'an object',
    });
    expect(classifyJobError(Object.create(null))).toEqual({
      type: 'retry',
      code: 'job_failed',
      message: 'unknown error',
    });
  });

  it('cuts a runaway message', () => {
    expect(classifyJobError(new Error('x'.repeat(10_000))).message).toHaveLength(2000);
  });
});

describe('abortError', () => {
  it("is the signal's reason when it is an Error, else a permanent 'cancelled'", () => {
    const withReason = new AbortController();
    const reason = new Error('shutting down');
    withReason.abort(reason);
    expect(abortError(withReason.signal)).toBe(reason);
    const withoutReason = new AbortController();
    withoutReason.abort('user asked');
    expect(abortError(withoutReason.signal)).toMatchObject({
      name: 'PermanentJobError',
      code: 'cancelled',
      cause: 'user asked',
    });
  });
});
