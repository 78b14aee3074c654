import { z } from 'zod';
import { jobKindsFromModule } from './job-module.js';
import { compileSchema, createJsonSchemaValidator, describeIssues, isZodSchema } from './job-schema.js';

const items = (...urls: string[]) => urls.map((url) => ({ url }));

describe('zod schemas', () => {
  const schema = z.object({
    number: z.number(),
    items: z.array(z.object({ url: z.url() })),
    tag: z.string().default('none'),
  });

  it('validate with zod itself: the parsed output is the value, failing fields by dotted path', () => {
    const { validate } = compileSchema(schema, 'input');
    expect(validate({ number: 1, items: items('https://a.example') })).toEqual({
      ok: true,
      value: { number: 1, items: items('https://a.example'), tag: 'none' },
    });
    expect(
      validate({ number: 'one', items: items('https://a.example', 'https://b.example', 'nope') }),
    ).toEqual({
      ok: false,
      issues: [
        { path: 'number', message: 'Invalid input: expected number, received string' },
        { path: 'items.2.url', message: 'Invalid URL' },
      ],
    });
    expect(validate('x')).toEqual({
      ok: false,
      issues: [{ path: '', message: expect.stringContaining('expected object') as unknown }],
    });
  });

  it('describe the input side as JSON Schema 2020-12, which the producer can compile and gets the same paths from', () => {
    const { jsonSchema } = compileSchema(schema, 'input');
    expect(jsonSchema).toMatchObject({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      required: ['number', 'items'],
    });
    const validate = createJsonSchemaValidator(jsonSchema);
    const outcome = validate({
      number: 'one',
      items: items('https://a.example', 'https://b.example', 'nope'),
    });
    expect(outcome.ok ? [] : outcome.issues.map(({ path }) => path)).toEqual(['number', 'items.2.url']);
  });

  it('are told apart from JSON Schema objects by shape, so another copy of zod works', () => {
    expect(isZodSchema(schema)).toBe(true);
    expect(isZodSchema({ type: 'object', properties: { _zod: { type: 'string' } } })).toBe(false);
    expect(isZodSchema({ _zod: {}, safeParse: () => ({ success: true, data: 1 }) })).toBe(true);
  });

  it('refuse async refinements at validation with a clear error', () => {
    const { validate } = compileSchema(
      z.string().refine(async () => true),
      'input',
    );
    expect(() => validate('x')).toThrow(/^schema cannot be checked synchronously/);
  });
});

describe('JSON Schema objects', () => {
  const schema = {
    type: 'object',
    properties: {
      number: { type: 'number' },
      items: {
        type: 'array',
        items: { type: 'object', properties: { url: { type: 'string', format: 'uri' } }, required: ['url'] },
      },
    },
    required: ['number'],
    additionalProperties: false,
  };

  it('validate with ajv, every failing field by dotted path (a missing or extra property named itself)', () => {
    const { validate, jsonSchema } = compileSchema(schema, 'input');
    expect(jsonSchema).toBe(schema);
    expect(validate({ number: 2, items: [] })).toEqual({ ok: true, value: { number: 2, items: [] } });
    expect(
      validate({
        number: 'x',
        items: [{ url: 'https://a.example' }, { url: 'https://b.example' }, { url: 'not a uri' }, {}],
        extra: 1,
      }),
    ).toEqual({
      ok: false,
      issues: [
        { path: 'extra', message: 'must NOT have additional properties' },
        { path: 'number', message: 'must be number' },
        { path: 'items.2.url', message: 'must match format "uri"' },
        { path: 'items.3.url', message: "must have required property 'url'" },
      ],
    });
  });

  it('unescape JSON Pointer segments in paths', () => {
    const { validate } = compileSchema(
      {
        type: 'object',
        properties: { 'a/b': { type: 'object', properties: { 'c~d': { type: 'integer' } } } },
      },
      'input',
    );
    expect(validate({ 'a/b': { 'c~d': 1.5 } })).toEqual({
      ok: false,
      issues: [{ path: 'a/b.c~d', message: 'must be integer' }],
    });
  });

  it('follow the draft their $schema names (draft-07 tuples here)', () => {
    const { validate } = compileSchema(
      {
        $schema: 'http://json-schema.org/draft-07/schema#',
        type: 'array',
        items: [{ type: 'string' }, { type: 'number' }],
      },
      'input',
    );
    expect(validate(['a', 1]).ok).toBe(true);
    expect(validate(['a', 'b'])).toEqual({ ok: false, issues: [{ path: '1', message: 'must be number' }] });
  });

  it('are compiled strictly when written by hand, leniently for generated ones', () => {
    expect(() => compileSchema({ type: 'string', format: 'colour' }, 'input')).toThrow(
      'unknown format "colour"',
    );
    const lenient = createJsonSchemaValidator({ type: 'string', format: 'colour', 'x-note': 'annotation' });
    expect(lenient('anything')).toEqual({ ok: true, value: 'anything' });
    expect(() => compileSchema({ type: 'object', properties: { a: () => 1 } }, 'input')).toThrow(
      'is not a JSON document: properties.a: a function is not JSON',
    );
  });

  it('format issues for a message, a few at a time', () => {
    expect(describeIssues([{ path: '', message: 'must be object' }])).toBe('(root): must be object');
    const many = Array.from({ length: 7 }, (_, i) => ({ path: `f${i}`, message: 'bad' }));
    expect(describeIssues(many)).toBe('f0: bad; f1: bad; f2: bad; f3: bad; f4: bad; and 2 more');
  });
});

describe('schemaHash', () => {
  const run = () => null;
  const hashOf = (definition: Record<string, unknown>) =>
    jobKindsFromModule(
      { default: { kind: 'k', run, ...definition } },
      { name: 'x', href: 'file:///x.mjs' },
    )[0]?.schemaHash;
  const input = {
    type: 'object',
    properties: { a: { type: 'string', minLength: 1 }, b: { type: 'integer' } },
    required: ['a'],
  };
  const reordered = {
    required: ['a'],
    properties: { b: { type: 'integer' }, a: { minLength: 1, type: 'string' } },
    type: 'object',
  };

  it('does not depend on key order', () => {
    expect(hashOf({ input })).toBe(hashOf({ input: reordered }));
    expect(hashOf({ input: z.object({ a: z.string(), b: z.number() }) })).toBe(
      hashOf({ input: z.object({ a: z.string(), b: z.number() }) }),
    );
  });

  it('changes with the input schema, the result schema and the version', () => {
    const base = hashOf({ input });
    expect(hashOf({ input: { ...input, required: ['a', 'b'] } })).not.toBe(base);
    expect(hashOf({ input, result: { type: 'string' } })).not.toBe(base);
    expect(hashOf({ input, version: 2 })).not.toBe(base);
    expect(hashOf({ input: z.object({ a: z.string() }) })).not.toBe(
      hashOf({ input: z.object({ a: z.string().min(1) }) }),
    );
  });

  it('ignores what is not schema: concurrency, timeout, retry, isolation', () => {
    expect(
      hashOf({ input, concurrency: 8, timeoutMs: 5, retry: { maxAttempts: 1 }, isolation: 'thread' }),
    ).toBe(hashOf({ input }));
  });
});
