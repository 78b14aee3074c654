import { z } from 'zod';
import { jsonSchemaValidator } from './json-schema-validator.js';

describe('jsonSchemaValidator', () => {
  const schema = z.toJSONSchema(
    z.strictObject({
      url: z.string().min(1),
      sizes: z.array(z.number().int().positive()).max(3),
      mode: z.enum(['fast', 'best']).optional(),
    }),
  );
  const check = jsonSchemaValidator(schema);

  it('accepts a valid value', () => {
    expect(check({ url: 'a', sizes: [1, 2] })).toEqual({ ok: true });
  });

  it('names every failing field by its path', () => {
    const result = check({ sizes: [1, -2], mode: 'slow', extra: true });
    expect(result.ok).toBe(false);
    const paths = result.ok ? [] : result.issues.map((issue) => issue.path).sort();
    expect(paths).toEqual(['extra', 'mode', 'sizes.1', 'url']);
  });

  it('takes a draft-07 schema written by hand', () => {
    const handWritten = jsonSchemaValidator({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      required: ['n'],
      properties: { n: { type: 'integer' } },
    });
    expect(handWritten({ n: 2 })).toEqual({ ok: true });
    expect(handWritten({ n: 'x' })).toEqual({
      ok: false,
      issues: [{ path: 'n', message: 'must be integer' }],
    });
  });
});
