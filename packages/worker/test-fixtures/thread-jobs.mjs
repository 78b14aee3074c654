// Job kinds for the thread-pool tests, run in worker threads. Like a user's module, it does not
// import the SDK: its errors are recognized by shape.
import { threadId } from 'node:worker_threads';

function spin(ms, signal) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) {
    if (signal?.aborted) return false;
    for (let i = 0; i < 10_000; i++) x += Math.sqrt(i + x);
  }
  return true;
}

class PermanentJobError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'PermanentJobError';
    this.code = code;
  }
}

const anything = {};

export default [
  {
    kind: 'spin',
    input: anything,
    isolation: 'thread',
    run(input, ctx) {
      ctx.log.info('spinning', { ms: input.ms });
      ctx.progress(0.25, 'started');
      spin(input.ms);
      ctx.progress(1, 'done');
      return { spunMs: input.ms, threadId };
    },
  },
  {
    kind: 'spin-until-aborted',
    input: anything,
    isolation: 'thread',
    run(_input, ctx) {
      ctx.progress(0, 'spinning');
      spin(30_000, ctx.signal);
      ctx.log.warn('saw abort', { reason: ctx.signal.reason?.message });
      ctx.signal.throwIfAborted();
      return 'not aborted';
    },
  },
  {
    kind: 'wait-for-abort',
    input: anything,
    isolation: 'thread',
    async run(_input, ctx) {
      await new Promise((_resolve, reject) => {
        const stop = () => {
          ctx.log.warn('saw abort', { reason: ctx.signal.reason?.message, code: ctx.signal.reason?.code });
          reject(ctx.signal.reason);
        };
        if (ctx.signal.aborted) stop();
        else ctx.signal.addEventListener('abort', stop);
      });
    },
  },
  {
    kind: 'ignore-abort',
    input: anything,
    isolation: 'thread',
    run() {
      spin(30_000);
      return 'finished';
    },
  },
  {
    kind: 'fail',
    input: anything,
    isolation: 'thread',
    run(input) {
      switch (input.how) {
        case 'own-class':
          throw new PermanentJobError('bad pixels', 'bad_pixels');
        case 'duck-retry':
          throw Object.assign(new Error('slow down'), { retryAfterMs: 1500, code: 'rate_limited' });
        case 'coded':
          throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
        case 'bigint':
          return { total: 10n };
        default:
          throw new TypeError('plain failure');
      }
    },
  },
];
