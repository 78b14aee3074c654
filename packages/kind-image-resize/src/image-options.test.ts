import { DEFAULT_IMAGE_LIMITS, resizeRequestSchema } from './image-options.js';

const schema = resizeRequestSchema(DEFAULT_IMAGE_LIMITS);

/** The messages of a refused request, by field. */
function refusal(input: unknown): Record<string, string> {
  const result = schema.safeParse(input);
  if (result.success) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return Object.fromEntries(result.error.issues.map((issue) => [issue.path.join('.'), issue.message]));
}

describe('resizeRequestSchema', () => {
  it('coerces multipart string fields', () => {
    expect(
      schema.parse({
        width: '800',
        height: ' 600 ',
        fit: 'cover',
        format: 'webp',
        quality: '75',
        keepMetadata: 'false',
      }),
    ).toEqual({ width: 800, height: 600, fit: 'cover', format: 'webp', quality: 75, keepMetadata: false });
    expect(schema.parse({ width: 1, height: 8192, fit: 'inside', keepMetadata: true })).toEqual({
      width: 1,
      height: 8192,
      fit: 'inside',
      keepMetadata: true,
    });
  });

  it('treats blank optional fields, as forms send them, as absent', () => {
    expect(
      schema.parse({ width: '10', height: '10', fit: 'fill', format: '', quality: '', keepMetadata: '' }),
    ).toEqual({
      width: 10,
      height: 10,
      fit: 'fill',
    });
  });

  it('refuses 0×0 and sizes above the limit, naming the field', () => {
    expect(refusal({ width: '0', height: 0, fit: 'cover' })).toEqual({
      width: 'width must be a whole number from 1 to 8192',
      height: 'height must be a whole number from 1 to 8192',
    });
    expect(refusal({ width: 100, height: '8193', fit: 'cover' })).toEqual({
      height: 'height must be a whole number from 1 to 8192',
    });
    expect(
      resizeRequestSchema({ ...DEFAULT_IMAGE_LIMITS, maxDimension: 500 }).safeParse({
        width: 501,
        height: 1,
        fit: 'cover',
      }).success,
    ).toBe(false);
  });

  it.each(['', '12.5', '1e3', 'abc', '-5', null, true])(
    'refuses width %p rather than coercing it',
    (width) => {
      expect(refusal({ width, height: 10, fit: 'cover' })).toEqual({
        width: 'width must be a whole number from 1 to 8192',
      });
    },
  );

  it('refuses unknown options and values with the choices spelled out', () => {
    const messages = refusal({
      width: 1,
      height: 1,
      fit: 'stretch',
      format: 'gif',
      quality: '101',
      keepMetadata: 'maybe',
      crop: 'yes',
    });
    expect(messages).toMatchObject({
      fit: 'fit must be one of cover, contain, inside, fill',
      format: 'format must be one of jpeg, png, webp, avif',
      quality: 'quality must be a whole number from 1 to 100',
      keepMetadata: 'keepMetadata must be true or false',
    });
    expect(messages['']).toContain('"crop"');
  });
});
