// The bare-sharp yardstick for image-resize benchmarks: how fast sharp alone resizes one image
// over and over, with nothing else in the way (no queue, storage or job bookkeeping). A pipeline
// benchmark reuses measureBareSharp and the same input files to show what the pipeline costs.
import { existsSync, mkdirSync } from 'node:fs';
import { readFile, rename } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const DATA_DIR = fileURLToPath(new URL('./.data/', import.meta.url));

/**
 * Resizes `input` (a Buffer) to width × height (cover, JPEG out) in a loop, `inFlight` at a time,
 * for about `seconds`; resizes already started when time is up are finished and counted.
 * `jpeg` is passed to sharp's encoder, e.g. `{ mozjpeg: true }` to match the job's settings.
 */
export async function measureBareSharp({ input, width, height, inFlight = 4, seconds = 10, jpeg = {} }) {
  const deadline = performance.now() + seconds * 1000;
  let images = 0;
  const loop = async () => {
    while (performance.now() < deadline) {
      await sharp(input).resize(width, height, { fit: 'cover' }).jpeg(jpeg).toBuffer();
      images++;
    }
  };
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(Array.from({ length: inFlight }, loop));
  const elapsedSeconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // CPU time of the whole process, libvips and libuv threads included: unlike images/s, it
  // hardly moves when other processes compete for the cores, so runs on a busy machine compare.
  const cpuMsPerImage = (cpu.user + cpu.system) / 1000 / images;
  return { imagesPerSecond: images / elapsedSeconds, images, elapsedSeconds, cpuMsPerImage };
}

/**
 * Path of a width × height JPEG (quality 85) with photo-like detail, generated once into
 * bench/.data/. Flat or pure-noise images would flatter or punish the codec; this has smooth
 * gradients, soft blobs, hard edges and mild sensor-like noise, and compresses to about the
 * size of a camera JPEG (≈ 0.3 bytes per pixel).
 */
export async function ensureBenchJpeg(width, height) {
  const path = `${DATA_DIR}photo-${width}x${height}.jpg`;
  if (!existsSync(path)) {
    mkdirSync(DATA_DIR, { recursive: true });
    const partial = `${path}.partial`;
    await sharp(photoLikePixels(width, height), { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 85 })
      .toFile(partial);
    await rename(partial, path);
  }
  return path;
}

export const readBenchJpeg = async (width, height) => readFile(await ensureBenchJpeg(width, height));

function photoLikePixels(width, height) {
  const pixels = Buffer.alloc(width * height * 3);
  let seed = 0x2545f491;
  for (let y = 0; y < height; y++) {
    const v = y / height;
    for (let x = 0; x < width; x++) {
      const u = x / width;
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      const noise = (seed & 31) - 16;
      const blobs = 40 * Math.sin(u * 7 + Math.sin(v * 5) * 2) * Math.cos(v * 6 - u * 3);
      const texture = 18 * Math.sin((x * 0.9 + y * 0.4) / 3) * Math.sin(y / 5);
      const edge = (u - 0.6) ** 2 + (v - 0.4) ** 2 < 0.04 ? 70 : 0;
      const offset = (y * width + x) * 3;
      pixels[offset] = clampByte(90 + 120 * u + blobs + edge + noise);
      pixels[offset + 1] = clampByte(70 + 110 * v + blobs * 0.6 + texture + noise);
      pixels[offset + 2] = clampByte(150 - 80 * u * v + texture - edge * 0.5 + noise);
    }
  }
  return pixels;
}

const clampByte = (value) => (value < 0 ? 0 : value > 255 ? 255 : Math.round(value));
