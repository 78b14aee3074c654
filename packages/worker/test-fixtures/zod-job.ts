import { defineJob, RetryJobError } from '@conveyor/worker';
import { z } from 'zod';

export const LinkCheckInput = z.object({
  urls: z.array(z.object({ url: z.url(), label: z.string().optional() })).min(1),
  depth: z.number().int().min(0).max(3).default(1),
});

export const LinkCheckResult = z.object({ checked: z.number().int(), labels: z.array(z.string()) });

/** A TypeScript job module written against the public SDK: the types of `input` and the result come from the schemas. */
export default defineJob({
  kind: 'link-check',
  input: LinkCheckInput,
  result: LinkCheckResult,
  concurrency: 2,
  timeoutMs: 1000,
  retry: { maxAttempts: 4, backoff: { type: 'exponential', delayMs: 500, maxDelayMs: 4000 } },
  async run(input, ctx) {
    ctx.log.info('checking links', { count: input.urls.length, depth: input.depth });
    if (input.urls.some(({ url }) => url.includes('rate-limited')))
      throw new RetryJobError('rate limited', { afterMs: 30_000 });
    ctx.progress(1);
    return {
      checked: input.urls.length,
      labels: input.urls.flatMap(({ label }) => (label === undefined ? [] : [label])),
    };
  },
});
