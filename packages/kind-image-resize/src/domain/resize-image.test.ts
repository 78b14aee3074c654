import { crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import { ImageError, type ImageErrorCode } from './image-error.js';
import { DEFAULT_IMAGE_LIMITS, type OutputFormat, type ResizeRequest } from '../contract.js';
import { resizeImage } from './resize-image.js';

const limits = DEFAULT_IMAGE_LIMITS;

/** Raw RGB that gives encoders real work: smooth gradients, an edge and noise (deterministic). */
function photoLikePixels(width: number, height: number): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  let seed = 0x9e3779b9;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const noise = (seed & 31) - 16;
      const edge = x > width / 3 && y < height / 2 ? 60 : 0;
      const offset = (y * width + x) * 3;
      pixels[offset] = clampByte((255 * x) / width + noise + edge);
      pixels[offset + 1] = clampByte((255 * y) / height + noise);
      pixels[offset + 2] = clampByte(128 + 100 * Math.sin(x / 9) * Math.cos(y / 13) + noise);
    }
  }
  return pixels;
}

const clampByte = (value: number) => Math.max(0, Math.min(255, Math.round(value)));

function photoLike(width: number, height: number) {
  return sharp(photoLikePixels(width, height), { raw: { width, height, channels: 3 } });
}

type InputFormat = 'jpeg' | 'png' | 'webp' | 'avif' | 'gif' | 'tiff';

const samples = new Map<string, Promise<Buffer>>();

/** A 320×240 photo-like image in the given format, encoded once per test file. */
function sample(format: InputFormat): Promise<Buffer> {
  let encoded = samples.get(format);
  if (encoded === undefined) {
    encoded = encodeFast(photoLike(320, 240), format).toBuffer();
    samples.set(format, encoded);
  }
  return encoded;
}

/** Encoder defaults would spend seconds here: AVIF's effort, GIF's palette search on noise. */
function encodeFast(image: Sharp, format: InputFormat): Sharp {
  if (format === 'avif') return image.avif({ effort: 0 });
  if (format === 'gif') return image.gif({ effort: 1 });
  return image.toFormat(format);
}

const request = (overrides: Partial<ResizeRequest> = {}): ResizeRequest => ({
  width: 64,
  height: 48,
  fit: 'cover',
  ...overrides,
});

/** What a client would see in the result: sharp reports AVIF as HEIF with AV1 compression. */
async function decoded(data: Buffer) {
  const metadata = await sharp(data).metadata();
  const format = metadata.format === 'heif' && metadata.compression === 'av1' ? 'avif' : metadata.format;
  return { format, width: metadata.width, height: metadata.height, metadata };
}

async function refusalOf(promise: Promise<unknown>): Promise<{ code: ImageErrorCode; message: string }> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ImageError)) throw new Error(`expected an ImageError, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

async function pixelAt(data: Buffer, x: number, y: number): Promise<number[]> {
  const { data: pixels, info } = await sharp(data).raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return [...pixels.subarray(offset, offset + info.channels)];
}

describe('resizeImage', () => {
  it.each<[InputFormat, OutputFormat]>([
    ['jpeg', 'jpeg'],
    ['png', 'png'],
    ['webp', 'webp'],
    ['avif', 'avif'],
    ['gif', 'jpeg'],
    ['tiff', 'jpeg'],
  ])('reads %s and by default writes %s', async (inputFormat, outputFormat) => {
    const result = await resizeImage(await sample(inputFormat), request(), limits);
    expect(result).toMatchObject({
      format: outputFormat,
      contentType: `image/${outputFormat}`,
      width: 64,
      height: 48,
      inputFormat,
      inputWidth: 320,
      inputHeight: 240,
    });
    expect(await decoded(result.data)).toMatchObject({ format: outputFormat, width: 64, height: 48 });
  });

  it.each<OutputFormat>(['jpeg', 'png', 'webp', 'avif'])('writes %s on request', async (format) => {
    const result = await resizeImage(
      await sample('png'),
      request({ width: 160, height: 90, format, quality: 60 }),
      limits,
    );
    expect(result).toMatchObject({
      format,
      contentType: `image/${format}`,
      width: 160,
      height: 90,
      inputFormat: 'png',
    });
    expect(await decoded(result.data)).toMatchObject({ format, width: 160, height: 90 });
  });

  it('uses the quality it is given', async () => {
    const input = await sample('jpeg');
    const low = await resizeImage(input, request({ quality: 20 }), limits);
    const high = await resizeImage(input, request({ quality: 95 }), limits);
    expect(low.data.length).toBeLessThan(high.data.length);
  });

  describe('fit modes on a 4:3 input into a 100×100 box', () => {
    let input: Buffer;
    beforeAll(async () => {
      input = await sample('jpeg');
    });

    it.each([
      ['cover', 100, 100],
      ['fill', 100, 100],
      ['contain', 100, 100],
      ['inside', 100, 75],
    ] as const)('%s gives %i×%i', async (fit, width, height) => {
      const result = await resizeImage(input, request({ width: 100, height: 100, fit }), limits);
      expect(result).toMatchObject({ width, height });
      expect(await decoded(result.data)).toMatchObject({ width, height });
    });

    it('contain letterboxes in white for JPEG and transparent where the format has alpha', async () => {
      const jpeg = await resizeImage(input, request({ width: 100, height: 100, fit: 'contain' }), limits);
      const png = await resizeImage(
        input,
        request({ width: 100, height: 100, fit: 'contain', format: 'png' }),
        limits,
      );
      // The 100×75 image sits in the middle: rows 0..11 are letterbox.
      for (const channel of await pixelAt(jpeg.data, 50, 2)) expect(channel).toBeGreaterThan(250);
      expect((await pixelAt(png.data, 50, 2))[3]).toBe(0);
      expect((await pixelAt(png.data, 50, 50))[3]).toBe(255);
    });
  });

  it('flattens transparency onto white when writing JPEG', async () => {
    const transparent = await sharp({
      create: { width: 40, height: 40, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
    })
      .png()
      .toBuffer();
    const result = await resizeImage(transparent, request({ width: 20, height: 20, format: 'jpeg' }), limits);
    for (const channel of await pixelAt(result.data, 10, 10)) expect(channel).toBeGreaterThan(250);
  });

  describe('EXIF orientation 6 (stored 60×40, displayed 40×60)', () => {
    let input: Buffer;
    beforeAll(async () => {
      input = await photoLike(60, 40).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    });

    it('comes out upright and without EXIF by default', async () => {
      const result = await resizeImage(input, request({ width: 30, height: 30, fit: 'inside' }), limits);
      expect(result).toMatchObject({ width: 20, height: 30, inputWidth: 40, inputHeight: 60 });
      const { metadata } = await decoded(result.data);
      expect(metadata).toMatchObject({ width: 20, height: 30 });
      expect(metadata.exif).toBeUndefined();
      expect(metadata.orientation).toBeUndefined();
    });

    it('keeps EXIF on request, with the orientation reset so viewers do not rotate it again', async () => {
      const result = await resizeImage(
        input,
        request({ width: 30, height: 30, fit: 'inside', keepMetadata: true }),
        limits,
      );
      const { metadata } = await decoded(result.data);
      expect(metadata).toMatchObject({ width: 20, height: 30, orientation: 1 });
      expect(metadata.exif).toBeDefined();
    });
  });

  describe('refuses', () => {
    it('a decompression bomb: 1 kB of PNG declaring 20000×20000', async () => {
      const bomb = await withDeclaredSize(
        await sharp({ create: { width: 64, height: 64, channels: 3, background: 'white' } })
          .png()
          .toBuffer(),
        20_000,
        20_000,
      );
      expect(bomb.length).toBeLessThan(1024);
      expect(await refusalOf(resizeImage(bomb, request(), limits))).toEqual({
        code: 'too_many_pixels',
        message: 'the image has more than 50,000,000 pixels (width × height); scale it down before uploading',
      });
    });

    it('a genuine image over the configured pixel limit', async () => {
      const large = await sharp({ create: { width: 2000, height: 1000, channels: 3, background: 'white' } })
        .png()
        .toBuffer();
      const result = refusalOf(resizeImage(large, request(), { ...limits, maxInputPixels: 1_999_999 }));
      expect((await result).code).toBe('too_many_pixels');
    });

    it('a truncated JPEG', async () => {
      const jpeg = await sample('jpeg');
      const { code, message } = await refusalOf(
        resizeImage(jpeg.subarray(0, jpeg.length >> 1), request(), limits),
      );
      expect(code).toBe('corrupt_image');
      expect(message).toMatch(
        /^the image could not be decoded, it is probably truncated or corrupt \(.*premature end.*\); re-export/i,
      );
    });

    it('a PNG with a corrupt header', async () => {
      const png = Buffer.from(await sample('png'));
      png.writeUInt32BE(0xdeadbeef, 29); // IHDR's CRC
      expect((await refusalOf(resizeImage(png, request(), limits))).code).toBe('corrupt_image');
    });

    it('a text file, whatever it is called', async () => {
      expect(await refusalOf(resizeImage(Buffer.from('name,total\nwidget,3\n'), request(), limits))).toEqual({
        code: 'unsupported_format',
        message: 'the file is not an image in a supported format; send JPEG, PNG, WebP, AVIF, GIF or TIFF',
      });
    });

    it('an input over the byte limit before decoding it', async () => {
      const jpeg = await sample('jpeg');
      const { code } = await refusalOf(
        resizeImage(jpeg, request(), { ...limits, maxInputBytes: jpeg.length - 1 }),
      );
      expect(code).toBe('input_too_large');
    });

    it.each([
      [{ width: 0 }, 'width must be a whole number from 1 to 8192, got 0'],
      [{ height: 8193 }, 'height must be a whole number from 1 to 8192, got 8193'],
      [{ width: 1.5 }, 'width must be a whole number from 1 to 8192, got 1.5'],
    ])('a request that skipped the schema: %p', async (size, message) => {
      expect(await refusalOf(resizeImage(await sample('jpeg'), request(size), limits))).toEqual({
        code: 'invalid_dimensions',
        message,
      });
    });

    it.each(['gif', 'webp'] as const)('an animated %s', async (format) => {
      const frames = await Promise.all(
        ['#c33', '#33c', '#3c3'].map((background) =>
          sharp({ create: { width: 32, height: 32, channels: 3, background } })
            .png()
            .toBuffer(),
        ),
      );
      const animation = await sharp(frames, { join: { animated: true } })
        .toFormat(format)
        .toBuffer();
      expect(await refusalOf(resizeImage(animation, request(), limits))).toEqual({
        code: 'animated_not_supported',
        message: `animated ${format.toUpperCase()} (3 frames) is not supported; upload a still image, e.g. one frame exported as PNG`,
      });
    });
  });

  describe('abort', () => {
    it('does not start when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort(new Error('job cancelled'));
      await expect(
        resizeImage(await sample('jpeg'), request(), limits, { signal: controller.signal }),
      ).rejects.toThrow('job cancelled');
    });

    it('drops the work when aborted while sharp runs', async () => {
      const controller = new AbortController();
      const resizing = resizeImage(await sample('jpeg'), request(), limits, { signal: controller.signal });
      controller.abort();
      await expect(resizing).rejects.toMatchObject({ name: 'AbortError' });
    });
  });
});

/** A copy of a PNG whose IHDR claims another size (its CRC fixed up): what a decompression bomb looks like to a decoder. */
function withDeclaredSize(png: Buffer, width: number, height: number): Buffer {
  const bomb = Buffer.from(png);
  const ihdr = 12; // after the 8-byte signature and the chunk's 4-byte length
  bomb.writeUInt32BE(width, ihdr + 4);
  bomb.writeUInt32BE(height, ihdr + 8);
  bomb.writeUInt32BE(crc32(bomb.subarray(ihdr, ihdr + 4 + 13)), ihdr + 4 + 13);
  return bomb;
}
