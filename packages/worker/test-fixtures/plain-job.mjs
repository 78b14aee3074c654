// A job module that imports nothing: its default export, a plain object literal, is the definition.
export default {
  kind: 'plain-echo',
  version: 2,
  input: {
    type: 'object',
    properties: {
      text: { type: 'string', minLength: 1 },
      times: { type: 'integer', minimum: 1, maximum: 10 },
    },
    required: ['text'],
    additionalProperties: false,
  },
  result: { type: 'object', properties: { echoed: { type: 'string' } }, required: ['echoed'] },
  concurrency: 4,
  timeoutMs: 2000,
  retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 250 } },
  async run(input, ctx) {
    ctx.progress(0.5, 'halfway');
    if (input.text === 'refuse')
      throw Object.assign(new Error('refused'), { permanent: true, code: 'refused' });
    return { echoed: input.text.repeat(input.times ?? 1) };
  },
};
