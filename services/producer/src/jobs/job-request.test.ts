import { AppError } from '@conveyor/platform';
import { jsonSchemaValidator } from '@conveyor/jobs';
import { normalizeJobInput, requestHash, type KindLookup } from './job-request.js';

const limits = { factorizeMaxDigits: 100, checkLocalPath: async () => undefined };

/** One registered kind, checked the way the registry's compiled JSON Schema checks it. */
const kinds: KindLookup = {
  find: async (kind) =>
    kind === 'lomo'
      ? {
          checkInput: jsonSchemaValidator({
            type: 'object',
            required: ['url'],
            properties: { url: { type: 'string' }, strength: { type: 'number', maximum: 1 } },
          }),
        }
      : undefined,
  names: async () => ['csv-sum', 'factorize', 'image-resize', 'lomo'],
  limits: async () => undefined,
};

describe('normalizeJobInput', () => {
  it('canonicalises a factorize number from a string or a JSON integer', async () => {
    expect(await normalizeJobInput('factorize', { number: '00123' }, limits, kinds)).toEqual({
      number: '123',
    });
    expect(await normalizeJobInput('factorize', { number: 1234 }, limits, kinds)).toEqual({ number: '1234' });
  });

  it('fills csv-sum defaults and checks local paths', async () => {
    expect(
      await normalizeJobInput('csv-sum', { storage: 's3', bucket: 'bkt', key: 'k.csv' }, limits, kinds),
    ).toEqual({ storage: 's3', bucket: 'bkt', key: 'k.csv', every: 10, delimiter: ',', header: true });
    const refusing = {
      ...limits,
      checkLocalPath: async () => Promise.reject(new AppError('path_outside_root', 'no', { status: 400 })),
    };
    await expect(
      normalizeJobInput('csv-sum', { storage: 'local', path: '../etc/passwd' }, refusing, kinds),
    ).rejects.toThrow('no');
    await expect(
      normalizeJobInput('csv-sum', { storage: 's3', bucket: 'bkt' }, limits, kinds),
    ).rejects.toThrow(/key/);
  });

  it('names the field of a refused csv-sum input where the request holds it', async () => {
    const detailsOf = async (
      input: unknown,
      inputPath?: 'body' | 'body.input',
      checkLocalPath = limits.checkLocalPath,
    ) => {
      try {
        await normalizeJobInput('csv-sum', input, { ...limits, checkLocalPath }, kinds, inputPath);
      } catch (error) {
        if (error instanceof AppError) return error.details;
        throw error;
      }
      throw new Error('accepted');
    };
    expect(await detailsOf({ storage: 's3', bucket: 'Bad_Bucket!', key: 'k' })).toEqual([
      { path: 'body.input.bucket', message: expect.stringContaining('lowercase') },
    ]);
    expect(await detailsOf({ storage: 's3', bucket: 'data' }, 'body')).toEqual([
      { path: 'body.key', message: expect.any(String) },
    ]);
    const loop = async () =>
      Promise.reject(new AppError('invalid_location', 'its symlinks form a loop', { status: 400 }));
    expect(await detailsOf({ storage: 'local', path: 'loop/x.csv' }, undefined, loop)).toEqual([
      { path: 'body.input.path', message: 'its symlinks form a loop' },
    ]);
    // The service's own failure is not pinned on the client's field.
    const down = async () =>
      Promise.reject(new AppError('storage_unavailable', 'disk gone', { status: 503 }));
    await expect(
      normalizeJobInput(
        'csv-sum',
        { storage: 'local', path: 'x.csv' },
        { ...limits, checkLocalPath: down },
        kinds,
      ),
    ).rejects.toMatchObject({ status: 503, details: undefined });
  });

  it.each([
    [{ number: '-5' }, /negative/],
    [{ number: '1.5' }, /decimal point/],
    [{ number: '1e5' }, /exponent/],
    [{}, /required/],
    [null, /required/],
    [{ number: '9'.repeat(101) }, /at most 100 digits/],
  ])('refuses %j naming the rule', async (input, message) => {
    await expect(normalizeJobInput('factorize', input, limits, kinds)).rejects.toThrow(message);
    try {
      await normalizeJobInput('factorize', input, limits, kinds);
    } catch (error) {
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).status).toBe(400);
      expect((error as AppError).details?.[0]?.path).toBe('body.input.number');
    }
  });
});

describe('requestHash', () => {
  it('is equal for equal requests and differs otherwise', () => {
    expect(requestHash('factorize', { number: '12' }, null)).toBe(
      requestHash('factorize', { number: '12' }, null),
    );
    expect(requestHash('factorize', { number: '12' }, null)).not.toBe(
      requestHash('factorize', { number: '13' }, null),
    );
    expect(requestHash('factorize', { number: '12' }, null)).not.toBe(
      requestHash('factorize', { number: '12' }, 'https://x.test/hook'),
    );
  });
});

describe('normalizeJobInput for registered kinds', () => {
  const refusal = async (kind: string, input: unknown) => {
    try {
      await normalizeJobInput(kind, input, limits, kinds);
    } catch (error) {
      if (error instanceof AppError)
        return { status: error.status, code: error.code, details: error.details, message: error.message };
      throw error;
    }
    throw new Error('expected a refusal');
  };

  it('accepts an input its registered schema accepts, unchanged', async () => {
    expect(await normalizeJobInput('lomo', { url: 'https://x/a.png', strength: 0.5 }, limits, kinds)).toEqual(
      { url: 'https://x/a.png', strength: 0.5 },
    );
  });

  it('refuses a bad input with 422 naming each failing field', async () => {
    expect(await refusal('lomo', { strength: 2 })).toMatchObject({
      status: 422,
      code: 'invalid_input',
      details: expect.arrayContaining([
        { path: 'body.input.url', message: expect.any(String) },
        { path: 'body.input.strength', message: 'must be <= 1' },
      ]),
    });
  });

  it('refuses an unknown kind with 422 listing the known ones', async () => {
    const refused = await refusal('sepia', {});
    expect(refused).toMatchObject({ status: 422, code: 'unknown_kind' });
    expect(refused.message).toContain('csv-sum, factorize, image-resize, lomo');
  });
});
