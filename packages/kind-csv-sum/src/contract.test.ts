import { CsvSumInput } from './contract.js';

/** The messages of a refused input, by field. */
function problems(input: unknown): [string, string][] {
  const result = CsvSumInput.safeParse(input);
  if (result.success) throw new Error(`accepted ${JSON.stringify(input)}`);
  return result.error.issues.map((issue) => [issue.path.join('.'), issue.message]);
}

describe('CsvSumInput', () => {
  it.each(['data', 'my-bucket.example', 'a1b', 'x'.repeat(63), '0-0'])(
    'accepts the bucket name %p',
    (bucket) => {
      expect(CsvSumInput.parse({ storage: 's3', bucket, key: 'k.csv' })).toMatchObject({ bucket });
    },
  );

  it.each([
    ['Bad_Bucket!', 'lowercase letters, digits'],
    ['Data', 'lowercase letters, digits'],
    ['under_score', 'lowercase letters, digits'],
    ['ab', '3 to 63 characters'],
    ['x'.repeat(64), '3 to 63 characters'],
    ['-data', 'start and end with a letter or digit'],
    ['data.', 'start and end with a letter or digit'],
    ['a..b', 'no two dots in a row'],
    ['192.168.5.4', 'not IP addresses'],
    ['da\0ta', 'lowercase letters, digits'],
  ])('refuses the bucket name %p', (bucket, messagePart) => {
    const found = problems({ storage: 's3', bucket, key: 'k.csv' });
    expect(found).toContainEqual(['bucket', expect.stringContaining(messagePart)]);
  });

  it('takes S3 keys of up to 1024 UTF-8 bytes, counted in bytes', () => {
    expect(CsvSumInput.parse({ storage: 's3', bucket: 'data', key: 'k'.repeat(1024) }).storage).toBe('s3');
    expect(CsvSumInput.parse({ storage: 's3', bucket: 'data', key: 'é'.repeat(512) }).storage).toBe('s3');
    expect(problems({ storage: 's3', bucket: 'data', key: 'k'.repeat(1025) })).toEqual([
      ['key', 'must be at most 1024 bytes in UTF-8'],
    ]);
    expect(problems({ storage: 's3', bucket: 'data', key: `${'é'.repeat(512)}k` })).toEqual([
      ['key', 'must be at most 1024 bytes in UTF-8'],
    ]);
  });

  it('refuses NUL characters and lone surrogates in keys and paths, which can be neither stored nor sent', () => {
    expect(problems({ storage: 's3', bucket: 'data', key: 'report\0.csv' })).toEqual([
      ['key', 'must not contain NUL characters'],
    ]);
    expect(problems({ storage: 'local', path: 'in/\0.csv' })).toEqual([
      ['path', 'must not contain NUL characters'],
    ]);
    expect(problems({ storage: 's3', bucket: 'data', key: 'a\ud800.csv' })).toEqual([
      ['key', 'must be valid Unicode (a lone surrogate was found)'],
    ]);
    expect(CsvSumInput.parse({ storage: 's3', bucket: 'data', key: 'emoji-😀.csv' }).storage).toBe('s3');
  });

  it('takes local paths of up to 4095 bytes (PATH_MAX less its NUL)', () => {
    expect(CsvSumInput.parse({ storage: 'local', path: 'a/'.repeat(2047) + 'b' }).storage).toBe('local');
    expect(problems({ storage: 'local', path: 'a/'.repeat(2048) })).toEqual([
      ['path', 'must be at most 4095 bytes in UTF-8'],
    ]);
  });
});
