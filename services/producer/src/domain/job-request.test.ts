import { AppError } from '@conveyor/platform';
import { normalizeJobInput, requestHash } from './job-request.js';

const limits = { factorizeMaxDigits: 100 };

describe('normalizeJobInput', () => {
  it('canonicalises a factorize number from a string or a JSON integer', () => {
    expect(normalizeJobInput('factorize', { number: '00123' }, limits)).toEqual({ number: '123' });
    expect(normalizeJobInput('factorize', { number: 1234 }, limits)).toEqual({ number: '1234' });
  });

  it.each([
    [{ number: '-5' }, /negative/],
    [{ number: '1.5' }, /decimal point/],
    [{ number: '1e5' }, /exponent/],
    [{}, /required/],
    [null, /required/],
    [{ number: '9'.repeat(101) }, /at most 100 digits/],
  ])('refuses %j naming the rule', (input, message) => {
    expect(() => normalizeJobInput('factorize', input, limits)).toThrow(message);
    try {
      normalizeJobInput('factorize', input, limits);
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
