/**
 * Tester settings from environment variables. Every variable is validated up front and all
 * problems are reported together, so a misconfigured run fails once with the full list instead
 * of once per typo.
 */
import { z } from 'zod';
import { loadConfig } from '@conveyor/platform';

/** An integer variable; each failure gets one message saying what is expected, whatever went wrong. */
function integerVariable(fallback: number, min: number, max: number, requirement: string) {
  return z.coerce
    .number({ error: requirement })
    .refine((value) => Number.isSafeInteger(value) && value >= min && value <= max, { error: requirement })
    .default(fallback);
}

const positiveInteger = (fallback: number) =>
  integerVariable(fallback, 1, Number.MAX_SAFE_INTEGER, 'must be a positive integer');

/** Delays may be zero: a simulator that answers at once is useful for throughput runs. */
const delayMs = (fallback: number) =>
  integerVariable(fallback, 0, Number.MAX_SAFE_INTEGER, 'must be a non-negative integer (milliseconds)');

export const TesterEnv = z
  .object({
    SIMULATOR_PORT: integerVariable(9010, 1, 65_535, 'must be a TCP port (1-65535)'),
    SIMULATOR_MIN_DELAY_MS: delayMs(300),
    SIMULATOR_MAX_DELAY_MS: delayMs(4300),
    SENDER_TARGET_URL: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .default('http://127.0.0.1:9090/callback'),
    SENDER_INTERVAL_MS: positiveInteger(5000),
    SENDER_MAX_IDS: positiveInteger(200),
    SENDER_ID_RANGE: positiveInteger(1000),
    SENDER_TIMEOUT_MS: positiveInteger(1000),
    SENDER_ENABLED: z.stringbool({ error: 'must be true or false' }).default(true),
  })
  .refine((env) => env.SIMULATOR_MIN_DELAY_MS <= env.SIMULATOR_MAX_DELAY_MS, {
    path: ['SIMULATOR_MAX_DELAY_MS'],
    error: 'must not be less than SIMULATOR_MIN_DELAY_MS',
  })
  .transform((env) => ({
    objectsApi: {
      port: env.SIMULATOR_PORT,
      minDelayMs: env.SIMULATOR_MIN_DELAY_MS,
      maxDelayMs: env.SIMULATOR_MAX_DELAY_MS,
    },
    callbackSender: {
      enabled: env.SENDER_ENABLED,
      targetUrl: env.SENDER_TARGET_URL,
      intervalMs: env.SENDER_INTERVAL_MS,
      maxIds: env.SENDER_MAX_IDS,
      idRange: env.SENDER_ID_RANGE,
      timeoutMs: env.SENDER_TIMEOUT_MS,
    },
  }));

export type TesterConfig = z.output<typeof TesterEnv>;

/** Parses the tester's settings; throws a ConfigError listing every invalid variable, one per line. */
export function loadTesterConfig(env: Record<string, string | undefined>): TesterConfig {
  return loadConfig(TesterEnv, env);
}
