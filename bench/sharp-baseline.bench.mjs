// Bare sharp throughput, the yardstick for the image-resize pipeline benchmark.
// Usage: node bench/sharp-baseline.bench.mjs [seconds per case, default 10]
// Inputs (1920×1080 and 4000×3000 JPEGs) are generated once into bench/.data/. Each case keeps
// 4 resizes in flight (cover, JPEG out) with sharp's default settings, then again with mozjpeg,
// which is what the resize job writes JPEG with. images/s depends on what else the machine is
// doing (the load average is printed); CPU ms/image much less so.
import { availableParallelism, loadavg } from 'node:os';
import sharp from 'sharp';
import { measureBareSharp, readBenchJpeg } from './sharp-baseline.mjs';

const IN_FLIGHT = 4;
const CASES = [
  { name: '1080p → 100×100', input: [1920, 1080], width: 100, height: 100 },
  { name: '12 MP → 800×600', input: [4000, 3000], width: 800, height: 600 },
];
const ENCODERS = [
  { name: 'libjpeg defaults', jpeg: {} },
  { name: 'mozjpeg', jpeg: { mozjpeg: true } },
];

async function main() {
  const seconds = Number(process.argv[2] ?? 10);
  console.log(
    `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}; ${availableParallelism()} CPUs, ` +
      `libvips threads per image ${sharp.concurrency()}, ${IN_FLIGHT} resizes in flight, ${seconds} s per case, ` +
      `load average ${loadavg()[0].toFixed(1)}`,
  );
  const rows = [];
  for (const {
    name,
    input: [inputWidth, inputHeight],
    width,
    height,
  } of CASES) {
    const input = await readBenchJpeg(inputWidth, inputHeight);
    for (const encoder of ENCODERS) {
      const run = await measureBareSharp({
        input,
        width,
        height,
        inFlight: IN_FLIGHT,
        seconds,
        jpeg: encoder.jpeg,
      });
      rows.push({
        case: name,
        'input KB': Math.round(input.length / 1024),
        encoder: encoder.name,
        images: run.images,
        'images/s': Number(run.imagesPerSecond.toFixed(1)),
        'CPU ms/image': Number(run.cpuMsPerImage.toFixed(1)),
      });
    }
  }
  console.table(rows);
}

await main();
