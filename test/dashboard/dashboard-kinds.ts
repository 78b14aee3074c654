import { PermanentJobError, defineJob, loadJobDefinitions } from '@conveyor/worker';
import { z } from 'zod';
import { loadConfig } from '@conveyor/platform';
import { ConsumerEnv } from '../../services/consumer/src/config.js';
import { ConsumerApp } from '../../services/consumer/src/consumer-app.js';
import { testLogger } from '../harness.js';

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), { once: true });
  });

/** Jobs of kind `flaky` that failed once (the consumer runs in the test's process). */
const refusedOnce = new Set<string>();

/**
 * `steps`: a job that reports its progress step by step, so the page has a bar to watch move
 * (and a long one to cancel). `flaky`: fails for good on its first attempt and succeeds on the
 * next, so a failed job can be retried from the page and its message is dead-lettered for real.
 */
const DASHBOARD_KINDS = [
  defineJob({
    kind: 'steps',
    input: z.strictObject({
      steps: z.number().int().min(1).max(1000),
      stepMs: z.number().int().min(1).max(5000),
    }),
    result: z.object({ steps: z.number() }),
    concurrency: 4,
    async run(input, ctx) {
      for (let step = 1; step <= input.steps; step++) {
        await sleep(input.stepMs, ctx.signal);
        ctx.progress(step / input.steps, `step ${step} of ${input.steps}`);
      }
      return { steps: input.steps };
    },
  }),
  defineJob({
    kind: 'flaky',
    input: z.strictObject({ text: z.string() }),
    result: z.object({ text: z.string(), attempt: z.number() }),
    retry: { maxAttempts: 1 },
    run(input, ctx) {
      // By job, not by ctx.attempt: a job retried by hand starts its attempts over.
      if (!refusedOnce.has(ctx.jobId)) {
        refusedOnce.add(ctx.jobId);
        throw new PermanentJobError('the first run is refused on purpose');
      }
      return { text: input.text, attempt: ctx.attempt };
    },
  }),
];

export const DASHBOARD_KIND_NAMES = ['steps', 'flaky'];

/** A consumer in this process running the built-in kinds and the dashboard's test kinds. */
export function dashboardConsumer(env: Record<string, string>): ConsumerApp {
  return new ConsumerApp(
    loadConfig(ConsumerEnv, {
      OPS_PORT: '0',
      JOB_CHECK_INTERVAL_MS: '100',
      WORKER_HEARTBEAT_MS: '500',
      ...env,
    }),
    testLogger('consumer'),
    { jobModules: loadJobDefinitions(DASHBOARD_KINDS, 'dashboard-test-kinds') },
  );
}
