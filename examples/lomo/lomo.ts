// A job kind written only against Conveyor's public SDK: the "lomo" look (stronger contrast and
// colour, dark corners) applied to an image, as the async-interface note's bulk example asks.
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { defineJob, PermanentJobError } from '@conveyor/worker';
import sharp from 'sharp';
import { z } from 'zod';

/** Where inputs are read and results written; a job names files relative to it. */
const ROOT = process.env.LOMO_DIR ?? join(process.cwd(), 'data', 'lomo');

// A pattern, not a refine(): it travels in the JSON Schema, so the producer refuses a bad path at submit.
const RelativePath = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^(?![/\\])(?!(.*[/\\])?\.\.([/\\]|$)).+$/, 'must be a path inside LOMO_DIR');

export default defineJob({
  kind: 'lomo',
  version: 1,
  input: z.strictObject({
    source: RelativePath,
    /** 0 (a plain copy) .. 1 (the full effect). */
    strength: z.number().min(0).max(1).default(0.7),
  }),
  result: z.object({ output: z.string(), width: z.number(), height: z.number(), bytes: z.number() }),
  // sharp works on libuv's threads, so the event loop stays free without a worker thread.
  isolation: 'inline',
  concurrency: 2,
  timeoutMs: 60_000,
  retry: { maxAttempts: 3, backoff: { type: 'exponential', delayMs: 1_000 } },
  async run({ source, strength }, ctx) {
    const image = sharp(join(ROOT, source), { failOn: 'error' });
    const { width, height } = await image.metadata().catch((error: unknown) => {
      throw new PermanentJobError(`${source} is not a readable image`, {
        code: 'unreadable_image',
        cause: error,
      });
    });
    if (!width || !height)
      throw new PermanentJobError(`${source} has no dimensions`, { code: 'unreadable_image' });
    ctx.progress(0.2, 'read');

    const contrast = 1 + 0.4 * strength;
    // Dark corners: a radial gradient from clear in the middle to black at the edges, multiplied in.
    const vignette = Buffer.from(
      `<svg width="${width}" height="${height}"><defs><radialGradient id="v" cx="50%" cy="50%" r="75%">` +
        `<stop offset="55%" stop-color="#fff"/><stop offset="100%" stop-color="#${Math.round(
          255 * (1 - 0.8 * strength),
        )
          .toString(16)
          .padStart(2, '0')
          .repeat(3)}"/>` +
        `</radialGradient></defs><rect width="100%" height="100%" fill="url(#v)"/></svg>`,
    );
    const output = join('lomo', `${ctx.jobId}.jpg`);
    await mkdir(dirname(join(ROOT, output)), { recursive: true });
    const written = await image
      .modulate({ saturation: 1 + 0.6 * strength })
      .linear(contrast, 128 * (1 - contrast))
      .composite([{ input: vignette, blend: 'multiply' }])
      .jpeg({ quality: 88 })
      .toFile(join(ROOT, output));
    ctx.progress(1, 'written');
    ctx.log.info('lomo applied', { source, output, strength });
    return { output, width: written.width, height: written.height, bytes: written.size };
  },
});
