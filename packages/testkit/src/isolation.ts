import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { DEFAULT_RETRY_TIERS_MS } from '@conveyor/platform';
import pg from 'pg';
import {
  MessageCatalog,
  retryTierDelays,
  topologyNames,
  type JobRetryPolicy,
  type MessageKind,
} from '@conveyor/contracts';

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

/**
 * A test file's own corner of the shared services: a PostgreSQL schema and an AMQP name prefix
 * nobody else uses, so files run in parallel and never touch a developer's running stack.
 * `dispose()` drops the schema and every queue and exchange under the prefix.
 */
export interface IsolatedEnv {
  schema: string;
  prefix: string;
  /** The variables a service under test needs to land in this corner. */
  env: Record<string, string>;
  dispose(): Promise<void>;
}

export interface IsolatedEnvOptions {
  /**
   * Job kinds the test consumes without registering them (a runner test's own kind): their
   * queues are deleted with the rest. Registered kinds are found in the schema.
   */
  jobKinds?: readonly string[];
}

export async function createIsolatedEnv(
  label: string,
  options: IsolatedEnvOptions = {},
): Promise<IsolatedEnv> {
  const id = `${label.replace(/[^a-z0-9]/g, '').slice(0, 20)}_${randomBytes(4).toString('hex')}`;
  const schema = `t_${id}`;
  const prefix = `t.${id}`;
  return {
    schema,
    prefix,
    env: {
      DATABASE_URL: TEST_DATABASE_URL,
      DATABASE_SCHEMA: schema,
      AMQP_URL: TEST_AMQP_URL,
      AMQP_PREFIX: prefix,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
      LOG_FORMAT: 'json',
    },
    async dispose() {
      // Registered job kinds declared queues of their own; their names are in the schema about to go.
      const registered = await registeredKinds(schema);
      const unregistered = (options.jobKinds ?? []).map((kind) => ({ kind, retry: NO_RETRY }));
      await dropSchema(schema);
      await deleteBrokerNames(prefix, [...registered, ...unregistered]);
    },
  };
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

/**
 * An unregistered kind has no retry tiers of its own to delete: it retries on the test's
 * RETRY_DELAYS_MS, whose tiers are deleted with the built-in names (testRetryDelays).
 */
const NO_RETRY: JobRetryPolicy = { maxAttempts: 1, backoff: { type: 'tiers', delaysMs: [100] } };

/** The job kinds worker hosts registered in a test's schema, with the retry tiers each declared. */
async function registeredKinds(schema: string): Promise<{ kind: string; retry: JobRetryPolicy }[]> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    const table = await client.query<{ exists: boolean }>('select to_regclass($1) is not null as exists', [
      `"${schema}".job_kinds`,
    ]);
    if (!table.rows[0]?.exists) return [];
    const { rows } = await client.query<{ kind: string; retry: JobRetryPolicy }>(
      `select kind, retry from "${schema}".job_kinds`,
    );
    return rows;
  } finally {
    await client.end();
  }
}

/** Deletes the queues and exchanges a prefix owns, found through the broker's own listing. */
async function deleteBrokerNames(
  prefix: string,
  registered: { kind: string; retry: JobRetryPolicy }[] = [],
): Promise<void> {
  const connection = await amqp.connect(TEST_AMQP_URL);
  try {
    const names = topologyNames(prefix);
    const { queues: builtIn, exchanges } = brokerNames(prefix);
    const queues = [
      ...builtIn,
      ...registered.flatMap(({ kind, retry }) => [
        names.workQueue(`job.${kind}`),
        ...retryTierDelays(retry).map((delay) => names.retryQueue(delay)),
      ]),
    ];
    for (const queue of new Set(queues)) {
      const channel = await connection.createChannel();
      await channel.deleteQueue(queue).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
    for (const exchange of exchanges) {
      const channel = await connection.createChannel();
      await channel.deleteExchange(exchange).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  } finally {
    await connection.close();
  }
}

/** AMQP cannot list names, so this derives every name the topology makes from a prefix. */
function brokerNames(prefix: string): { queues: string[]; exchanges: string[] } {
  const names = topologyNames(prefix);
  const kinds = Object.keys(MessageCatalog) as MessageKind[];
  const delays = new Set<number>([...DEFAULT_RETRY_TIERS_MS, ...testRetryDelays]);
  return {
    queues: [
      ...kinds.map((k) => names.workQueue(k)),
      ...[...delays].map((d) => names.retryQueue(d)),
      names.deadLetterQueue,
      names.jobEventsQueue,
    ],
    exchanges: [names.workExchange, names.retryExchange, names.deadLetterExchange, names.eventsExchange],
  };
}

/** Retry delays tests use (they must be listed here so dispose() finds their queues). */
export const testRetryDelays: readonly number[] = [100, 200, 300, 500];
