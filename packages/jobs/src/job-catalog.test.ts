import {
  isJobOfKind,
  parseJobData,
  RegisteredKindName,
  type JobData,
  type RegisteredJobData,
} from './job-catalog.js';

const image = {
  original: { bucket: 'images', key: 'uploads/a.png' },
  originalFormat: 'png',
  originalBytes: 10,
  fileName: null,
  width: 10,
  height: 10,
  fit: 'cover',
};
const imageResult = {
  location: { bucket: 'images', key: 'results/a.png' },
  contentType: 'image/png',
  format: 'png',
  width: 10,
  height: 10,
  bytes: 5,
  etag: 'abc',
};

describe('parseJobData', () => {
  it('types a built-in kind by its schemas, narrowed by isJobOfKind', () => {
    const job: JobData = parseJobData(
      'factorize',
      { number: '12' },
      { factors: ['2', '2', '3'], product: '12', verified: true },
    );
    if (!isJobOfKind(job, 'factorize')) throw new Error('not a factorize job');
    const digits: string = job.input.number;
    expect(digits).toBe('12');
    expect(job.result?.factors).toEqual(['2', '2', '3']);
    expect(isJobOfKind(job, 'csv-sum')).toBe(false);
  });

  it('gives the schema output: defaults filled in, a missing result as null', () => {
    const job = parseJobData('image-resize', image, undefined);
    if (!isJobOfKind(job, 'image-resize')) throw new Error('not an image job');
    expect(job.input.keepMetadata).toBe(false);
    expect(job.result).toBeNull();
    const done = parseJobData('image-resize', { ...image, keepMetadata: true }, imageResult);
    expect(done).toMatchObject({ input: { keepMetadata: true }, result: { etag: 'abc' } });
  });

  it('refuses a stored input or result that does not match, naming the field', () => {
    expect(() => parseJobData('factorize', { number: 12 }, null)).toThrow(
      /stored input does not match the factorize schema \(input\.number: /,
    );
    expect(() => parseJobData('csv-sum', { storage: 'local', path: 'a.csv' }, { columns: 'no' })).toThrow(
      /stored result does not match the csv-sum schema \(result\.columns: /,
    );
    expect(() => parseJobData('image-resize', image, { ...imageResult, etag: undefined })).toThrow(
      /result\.etag/,
    );
  });

  it('passes a registered kind through, its schemas being its host’s to check', () => {
    const job = parseJobData('lomo', { anything: [1] }, 'whatever');
    expect(job).toEqual({ kind: 'lomo', input: { anything: [1] }, result: 'whatever' });
    expect(isJobOfKind(job, 'factorize')).toBe(false);
    expect(() => parseJobData('Not A Kind', {}, null)).toThrow();
  });

  it('never names a registered kind after a built-in one', () => {
    expect(RegisteredKindName.safeParse('factorize').success).toBe(false);
    // @ts-expect-error a built-in name is not a RegisteredKindName
    const wrong: RegisteredJobData = { kind: 'factorize', input: null, result: null };
    expect(wrong.kind).toBe('factorize');
  });
});
