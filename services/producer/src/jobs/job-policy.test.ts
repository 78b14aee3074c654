import { jobPolicyOf } from './job-policy.js';

describe('jobPolicyOf', () => {
  const limits = { timeoutMs: 60_000, maxAttempts: 5 };

  it('takes a timeout and most attempts within the kind’s', () => {
    expect(jobPolicyOf({ kind: 'factorize', timeoutMs: 1_000, retry: { maxAttempts: 2 } }, limits)).toEqual({
      timeoutMs: 1_000,
      maxAttempts: 2,
    });
    expect(jobPolicyOf({ kind: 'factorize', timeoutMs: 60_000, retry: { maxAttempts: 5 } }, limits)).toEqual({
      timeoutMs: 60_000,
      maxAttempts: 5,
    });
    expect(jobPolicyOf({ kind: 'factorize' }, limits)).toEqual({});
  });

  it('refuses more than the kind allows with a 422 naming the field', () => {
    expect(() => jobPolicyOf({ kind: 'factorize', timeoutMs: 60_001 }, limits)).toThrow(
      expect.objectContaining({
        status: 422,
        code: 'policy_exceeds_kind',
        details: [{ path: 'body.timeoutMs', message: "at most 60000 ms, the kind's timeout" }],
      }),
    );
    expect(() => jobPolicyOf({ kind: 'factorize', retry: { maxAttempts: 6 } }, limits)).toThrow(
      expect.objectContaining({ details: [expect.objectContaining({ path: 'body.retry.maxAttempts' })] }),
    );
  });

  it('lets the host clamp a kind no host has registered yet, or one without a timeout', () => {
    expect(jobPolicyOf({ kind: 'new-kind', timeoutMs: 10_000_000 }, undefined)).toEqual({
      timeoutMs: 10_000_000,
    });
    expect(jobPolicyOf({ kind: 'open', timeoutMs: 10_000_000 }, { timeoutMs: null, maxAttempts: 3 })).toEqual(
      {
        timeoutMs: 10_000_000,
      },
    );
  });
});
