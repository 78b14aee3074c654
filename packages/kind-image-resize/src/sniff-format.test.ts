import sharp from 'sharp';
import { SNIFF_BYTES, sniffImageFormat } from './sniff-format.js';

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(
    parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))),
  );

/** An ISO base media `ftyp` box: size, 'ftyp', major brand, minor version 0, compatible brands. */
const ftyp = (major: string, ...compatible: string[]): Uint8Array => {
  const size = 16 + 4 * compatible.length;
  return bytes([0, 0, 0, size], 'ftyp', major, [0, 0, 0, 0], compatible.join(''), [0, 0, 0, 8], 'meta');
};

describe('sniffImageFormat', () => {
  it.each([
    ['jpeg', bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'JFIF')],
    ['png', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d], 'IHDR')],
    ['webp', bytes('RIFF', [0x24, 0, 0, 0], 'WEBPVP8 ')],
    ['gif', bytes('GIF87a', [1, 0, 1, 0])],
    ['gif', bytes('GIF89a', [1, 0, 1, 0])],
    ['tiff', bytes('II', [0x2a, 0, 8, 0, 0, 0])],
    ['tiff', bytes('MM', [0, 0x2a, 0, 0, 0, 8])],
    ['avif', ftyp('avif', 'mif1', 'avif', 'miaf')],
    ['avif', ftyp('avis', 'msf1', 'avis')],
    ['avif', ftyp('mif1', 'miaf', 'avif')],
    ['heif', ftyp('heic', 'mif1', 'heic')],
    ['heif', ftyp('mif1', 'heic')],
  ])('recognises %s from its signature', (format, head) => {
    expect(sniffImageFormat(head)).toBe(format);
  });

  it.each([
    ['text, whatever the file was called', bytes('hello, this is not a PNG\n')],
    ['an MP4 video (ftyp without an image brand)', ftyp('isom', 'isom', 'iso2', 'mp41')],
    ['a RIFF that is not WebP (WAV)', bytes('RIFF', [0x24, 0, 0, 0], 'WAVEfmt ')],
    ['a signature cut short', bytes([0x89, 0x50, 0x4e, 0x47])],
    ['nothing', new Uint8Array(0)],
  ])('refuses %s', (_what, head) => {
    expect(sniffImageFormat(head)).toBeUndefined();
  });

  it.each(['jpeg', 'png', 'webp', 'gif', 'avif', 'tiff'] as const)(
    'recognises a %s written by sharp',
    async (format) => {
      const file = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#3a7' } })
        .toFormat(format)
        .toBuffer();
      expect(sniffImageFormat(file.subarray(0, SNIFF_BYTES))).toBe(format);
    },
  );
});
