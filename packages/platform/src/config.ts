import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { z } from 'zod';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment against a service's schema and reports every bad variable at once,
 * one line each. Pure: callers pass the env (main.ts passes `withDotenv(process.env)`).
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const value = env[name];
    const shown = value === undefined ? 'unset' : `got ${JSON.stringify(value)}`;
    return `${name}: ${issue.message} (${shown})`;
  });
  throw new ConfigError(problems);
}

/** The process environment over the defaults in a `.env` file; real variables always win. */
export function withDotenv(env: NodeJS.ProcessEnv, path = '.env'): Record<string, string | undefined> {
  let fileValues: Record<string, string> = {};
  try {
    fileValues = parseEnv(readFileSync(path, 'utf8')) as Record<string, string>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { ...fileValues, ...env };
}

/** Schema helpers with explicit coercion and units in the names they are used under. */
export const env = {
  int: (defaultValue: number, min = 0) =>
    z.coerce
      .number({ error: 'must be an integer' })
      .int({ error: 'must be an integer' })
      .min(min, { error: `must be at least ${min}` })
      .default(defaultValue),
  string: (defaultValue: string) => z.string().min(1).default(defaultValue),
  url: (defaultValue: string) => z.url().default(defaultValue),
  /** One URL or several, comma-separated (the nodes of a cluster); kept as the trimmed list's text. */
  urlList: (defaultValue: string) =>
    z
      .string()
      .default(defaultValue)
      .transform((text, ctx) => {
        const urls = text
          .split(',')
          .map((url) => url.trim())
          .filter((url) => url !== '');
        if (urls.length === 0) ctx.addIssue({ code: 'custom', message: 'must name at least one URL' });
        for (const url of urls)
          if (!URL.canParse(url)) ctx.addIssue({ code: 'custom', message: `"${url}" is not a URL` });
        return urls.join(',');
      }),
  bool: (defaultValue: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(defaultValue ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  logLevel: () => z.enum(['error', 'warn', 'info', 'http', 'verbose', 'debug']).default('info'),
  logFormat: () => z.enum(['json', 'pretty']).default('json'),
  /** Comma-separated positive integers, e.g. retry delays in ms. */
  intList: (defaultValue: readonly number[]) =>
    z
      .string()
      .regex(/^\d+(,\d+)*$/, 'must be comma-separated positive integers')
      .default(defaultValue.join(','))
      .transform((v) => v.split(',').map(Number)),
  /** A name usable in SQL identifiers and AMQP names. */
  identifier: (defaultValue: string) =>
    z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be lowercase letters, digits and _ (starting with a letter)')
      .default(defaultValue),
};

/** The retry tiers a service declares when RETRY_DELAYS_MS names none (see the broker's retry-tiers.ts). */
export const DEFAULT_RETRY_TIERS_MS: readonly number[] = [1_000, 5_000, 30_000, 120_000, 600_000];

/**
 * The standard OpenTelemetry variables a service reads. Tracing is off unless one of them asks
 * for an exporter: `OTEL_TRACES_EXPORTER` (`otlp` or `console`), or an OTLP endpoint; the OTLP
 * exporter itself reads the rest (`OTEL_EXPORTER_OTLP_HEADERS`, timeouts), the provider the
 * sampler (`OTEL_TRACES_SAMPLER`, `_ARG`), the resource `OTEL_RESOURCE_ATTRIBUTES`.
 */
const tracingEnvShape = {
  OTEL_SDK_DISABLED: env.bool(false),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'console', 'none']).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  /** OTLP over HTTP with protobuf, the standard's default (a collector's port 4318); no gRPC. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.literal('http/protobuf').optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.literal('http/protobuf').optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
};

/** Variables every service reads: where the broker and database are, how to log, how to retry, tracing. */
export const commonEnvShape = {
  ...tracingEnvShape,
  LOG_LEVEL: env.logLevel(),
  LOG_FORMAT: env.logFormat(),
  DATABASE_URL: env.url('postgres://postgres@127.0.0.1:5432/postgres'),
  /** Schema for every table; a second stack (or a test) on the same database uses another. */
  DATABASE_SCHEMA: env.identifier('conveyor'),
  DATABASE_POOL_MAX: env.int(10, 1),
  /**
   * The broker, or the nodes of a RabbitMQ cluster as a comma-separated list: a service connects
   * to the first that answers and, when its node goes away, to the next. Default the local node.
   */
  AMQP_URL: env.urlList('amqp://guest:guest@127.0.0.1:5672'),
  /**
   * Replicas of each quorum queue when it is first declared: every node of a cluster up to this
   * many (one on a single node). Queues that exist keep theirs (`rabbitmq-queues grow` changes
   * them). Default 3.
   */
  QUORUM_INITIAL_GROUP_SIZE: env.int(3, 1),
  /**
   * Confirm channels a service publishes on. A quorum queue takes at most 32 commands at a time
   * from one channel, so a callback's 200 messages on one channel wait for several of the queue's
   * disk writes in turn; spread over channels they share one. Default 8.
   */
  PUBLISH_CHANNELS: env.int(8, 1),
  /** Prefix of every exchange and queue name. */
  AMQP_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9._-]{0,60}$/, 'must be lowercase letters, digits, . _ -')
    .default('conveyor'),
  /** Retry tiers in ms; each tier is a queue, so changing a value adds a queue rather than altering one. */
  RETRY_DELAYS_MS: env.intList(DEFAULT_RETRY_TIERS_MS),
  /** Handler attempts (first try included) before a message is dead-lettered. */
  MAX_ATTEMPTS: env.int(5, 1),
  /** Deliveries of one message (crashes, requeues) before the broker itself dead-letters it. */
  DELIVERY_LIMIT: env.int(20, 1),
};

/** For main.ts: a bad configuration prints one line per variable and exits 1, without a stack trace. */
export function loadConfigOrExit<S extends z.ZodType>(
  service: string,
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  try {
    return loadConfig(schema, env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(1);
  }
}

/**
 * Reads variables under their old names too, so a deployment configured before a rename keeps
 * working: for each `old → current`, the old one's value is used when the current one is unset.
 * Use it as `z.preprocess(renamedVariables({ OLD: 'NEW' }), schema)`.
 */
export function renamedVariables(renames: Readonly<Record<string, string>>): (env: unknown) => unknown {
  return (env) => {
    if (typeof env !== 'object' || env === null) return env;
    const copy: Record<string, unknown> = { ...env };
    for (const [old, current] of Object.entries(renames)) {
      if (copy[current] === undefined && copy[old] !== undefined) copy[current] = copy[old];
      delete copy[old];
    }
    return copy;
  };
}
