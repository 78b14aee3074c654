import sharp from 'sharp';
import { configureSharp } from './configure-sharp.js';

describe('configureSharp', () => {
  const defaultConcurrency = sharp.concurrency();
  afterAll(() => {
    sharp.concurrency(defaultConcurrency);
    sharp.cache(true);
  });

  it('sets libvips threads per image and turns the operation cache off', () => {
    configureSharp({ concurrency: 1 });
    expect(sharp.concurrency()).toBe(1);
    expect(sharp.cache().items).toMatchObject({ max: 0 });
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses concurrency %p', (concurrency) => {
    expect(() => configureSharp({ concurrency })).toThrow(RangeError);
  });
});
