import { canonicalJson, parseIdempotencyKey, requestFingerprint } from './idempotency-key.js';

describe('parseIdempotencyKey', () => {
  it('takes the Structured Field string form and the bare form alike', () => {
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toBe(
      '8e03978e-40d5-43e8-bc93-6894a57f9324',
    );
    expect(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324')).toBe(
      '8e03978e-40d5-43e8-bc93-6894a57f9324',
    );
    expect(parseIdempotencyKey(undefined)).toBeUndefined();
  });

  it.each(['', '""', 'two words', 'x'.repeat(256), 'a"b', 'ünïcode', 'back\\slash'])(
    'refuses %j with a 400 naming the header',
    (value) => {
      expect(() => parseIdempotencyKey(value)).toThrow(
        expect.objectContaining({ status: 400, code: 'invalid_idempotency_key' }),
      );
    },
  );
});

describe('requestFingerprint', () => {
  it('is the same for the same JSON in another key order or spacing, and differs by body, path or method', () => {
    const a = requestFingerprint(
      'POST',
      '/v1/jobs',
      JSON.parse('{"kind":"factorize","input":{"number":"12","x":[1,{"b":1,"a":2}]}}'),
    );
    const b = requestFingerprint(
      'POST',
      '/v1/jobs',
      JSON.parse('{ "input": {"x":[1,{"a":2,"b":1}], "number":"12"}, "kind":"factorize" }'),
    );
    expect(a).toBe(b);
    expect(requestFingerprint('POST', '/v1/jobs', { kind: 'factorize', input: { number: '13' } })).not.toBe(
      a,
    );
    expect(
      requestFingerprint(
        'POST',
        '/callback',
        JSON.parse('{"kind":"factorize","input":{"number":"12","x":[1,{"b":1,"a":2}]}}'),
      ),
    ).not.toBe(a);
  });

  it('keeps array order (it is meaningful)', () => {
    expect(canonicalJson([2, 1])).not.toBe(canonicalJson([1, 2]));
  });
});
