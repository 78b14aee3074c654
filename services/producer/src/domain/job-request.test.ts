import { AppError } from '@conveyor/platform';
import { normalizeJobInput, requestHash } from './job-request.js';

const limits = { factorizeMaxDigits: 100, checkLocalPath: async () => undefined };

describe('normalizeJobInput', () => {
  it('canonicalises a factorize number from a string or a JSON integer', async () => {
    expect(await normalizeJobInput('factorize', { number: '00123' }, limits)).toEqual({ number: '123' });
    expect(await normalizeJobInput('factorize', { number: 1234 }, limits)).toEqual({ number: '1234' });
  });

  it('fills csv-sum defaults and checks local paths', async () => {
    expect(await normalizeJobInput('csv-sum', { storage: 's3', bucket: 'bkt', key: 'k.csv' }, limits)).toEqual({ storage: 's3', bucket: 'bkt', key: 'k.csv', every: 10, delimiter: ',', header: true });
    const refusing = { ...limits, checkLocalPath: async () => Promise.reject(new AppError('path_outside_root', 'no', { status: 400 })) };
    await expect(normalizeJobInput('csv-sum', { storage: 'local', path: '../etc/passwd' }, refusing)).rejects.toThrow('no');
    await expect(normalizeJobInput('csv-sum', { storage: 's3', bucket: 'bkt' }, limits)).rejects.toThrow(/key/);
  });

  it('names the field of a refused csv-sum input where the request holds it', async () => {
    const detailsOf = async (input: unknown, inputPath?: 'body' | 'body.input', checkLocalPath = limits.checkLocalPath) => {
      try {
        await normalizeJobInput('csv-sum', input, { ...limits, checkLocalPath }, inputPath);
      } catch (error) {
        if (error instanceof AppError) return error.details;
        throw error;
      }
      throw new Error('accepted');
    };
    expect(await detailsOf({ storage: 's3', bucket: 'Bad_Bucket!', key: 'k' })).toEqual([{ path: 'body.input.bucket', message: expect.stringContaining('lowercase') }]);
    expect(await detailsOf({ storage: 's3', bucket: 'data' }, 'body')).toEqual([{ path: 'body.key', message: expect.any(String) }]);
    const loop = async () => Promise.reject(new AppError('invalid_location', 'its symlinks form a loop', { status: 400 }));
    expect(await detailsOf({ storage: 'local', path: 'loop/x.csv' }, undefined, loop)).toEqual([{ path: 'body.input.path', message: 'its symlinks form a loop' }]);
    // The service's own failure is not pinned on the client's field.
    const down = async () => Promise.reject(new AppError('storage_unavailable', 'disk gone', { status: 503 }));
    await expect(normalizeJobInput('csv-sum', { storage: 'local', path: 'x.csv' }, { ...limits, checkLocalPath: down })).rejects.toMatchObject({ status: 503, details: undefined });
  });

  it.each([
    [{ number: '-5' }, /negative/],
    [{ number: '1.5' }, /decimal point/],
    [{ number: '1e5' }, /exponent/],
    [{}, /required/],
    [null, /required/],
    [{ number: '9'.repeat(101) }, /at most 100 digits/],
  ])('refuses %j naming the rule', async (input, message) => {
    await expect(normalizeJobInput('factorize', input, limits)).rejects.toThrow(message);
    try {
      await normalizeJobInput('factorize', input, limits);
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).status).toBe(400);
      expect((error as AppError).details?.[0]?.path).toBe('body.input.number');
    }
  });
});

describe('requestHash', () => {
  it('is equal for equal requests and differs otherwise', () => {
    expect(requestHash('factorize', { number: '12' }, null)).toBe(requestHash('factorize', { number: '12' }, null));
    expect(requestHash('factorize', { number: '12' }, null)).not.toBe(requestHash('factorize', { number: '13' }, null));
    expect(requestHash('factorize', { number: '12' }, null)).not.toBe(requestHash('factorize', { number: '12' }, 'https://x.test/hook'));
  });
});
