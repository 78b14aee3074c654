import { loadConfig } from '@conveyor/platform';
import { defineJob, loadJobDefinitions, PermanentJobError } from '@conveyor/worker';
import { ConsumerEnv } from '../../services/consumer/src/config.js';
import { ConsumerApp } from '../../services/consumer/src/consumer-app.js';
import { testLogger } from '../harness.js';

/**
 * What a `scripted` job does on each of its runs, by its input's `key`: `fail` (permanently),
 * `hang` (until cancelled or 10 s), `progress` (three steps over ~0.6 s), anything else succeeds
 * at once. A key without a script succeeds.
 */
export const scripts = new Map<string, string[]>();
export const runsOf = new Map<string, number>();

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

const scripted = defineJob<{ key: string }, { key: string; run: number }>({
  kind: 'scripted',
  input: { type: 'object', required: ['key'], properties: { key: { type: 'string' } } },
  retry: { maxAttempts: 1 },
  concurrency: 4,
  async run(input, ctx) {
    const run = (runsOf.get(input.key) ?? 0) + 1;
    runsOf.set(input.key, run);
    const step = scripts.get(input.key)?.[run - 1];
    if (step === 'fail')
      throw new PermanentJobError(`run ${run} fails on purpose`, { code: 'scripted_failure' });
    if (step === 'hang') await sleep(10_000, ctx.signal);
    if (step === 'progress')
      for (const fraction of [0.25, 0.5, 0.75]) {
        ctx.progress(fraction, `step ${fraction}`);
        await sleep(250, ctx.signal);
      }
    return { key: input.key, run };
  },
});

/** A worker host in this process running only the `scripted` kind. */
export function scriptedConsumer(env: Record<string, string>): ConsumerApp {
  return new ConsumerApp(
    loadConfig(ConsumerEnv, { OPS_PORT: '0', BUILT_IN_KINDS: 'false', ...env }),
    testLogger('consumer'),
    { jobModules: loadJobDefinitions([scripted], 'operator-tests') },
  );
}

export interface ServerSentEvent {
  event: string;
  data: unknown;
}

/**
 * Reads a Server-Sent Events stream until it ends (or `until` says enough, or `timeoutMs`),
 * returning its events and whether the server ended it.
 */
export async function readEvents(
  url: string,
  options: {
    headers?: Record<string, string>;
    timeoutMs?: number;
    until?: (events: ServerSentEvent[]) => boolean;
  } = {},
): Promise<{ status: number; events: ServerSentEvent[]; ended: boolean }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 15_000);
  const events: ServerSentEvent[] = [];
  try {
    const response = await fetch(url, { headers: options.headers, signal: controller.signal });
    if (!response.body) return { status: response.status, events, ended: true };
    const decoder = new TextDecoder();
    let buffer = '';
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return { status: response.status, events, ended: true };
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
        if (options.until?.(events)) {
          controller.abort();
          return { status: response.status, events, ended: false };
        }
      }
    } catch {
      return { status: response.status, events, ended: false };
    }
  } finally {
    clearTimeout(timer);
  }
}
