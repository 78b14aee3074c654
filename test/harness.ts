import { loadConfig, silentLogger, createLogger } from '@conveyor/platform';
import { createIsolatedEnv, waitFor, type IsolatedEnv } from '@conveyor/testkit';
import { CleanupEnv } from '../services/cleanup/src/config.js';
import { CleanupApp } from '../services/cleanup/src/cleanup-app.js';
import { ConsumerEnv } from '../services/consumer/src/config.js';
import { ConsumerApp } from '../services/consumer/src/consumer-app.js';
import { ProducerEnv } from '../services/producer/src/config.js';
import { ProducerApp } from '../services/producer/src/producer-app.js';
import { NotifierEnv } from '../services/notifier/src/config.js';
import { NotifierApp } from '../services/notifier/src/notifier-app.js';

/** Services in this test process, each configured like main.ts would, but pointed at the test's own corner. */
export function testLogger(service: string) {
  return process.env.TEST_LOG_LEVEL
    ? createLogger({ service, level: process.env.TEST_LOG_LEVEL, format: 'pretty' })
    : silentLogger();
}

export function producerApp(
  env: Record<string, string>,
  options?: ConstructorParameters<typeof ProducerApp>[2],
): ProducerApp {
  return new ProducerApp(
    loadConfig(ProducerEnv, { PORT: '0', OPS_PORT: '0', ...env }),
    testLogger('producer'),
    options,
  );
}

export function consumerApp(
  env: Record<string, string>,
  options?: ConstructorParameters<typeof ConsumerApp>[2],
): ConsumerApp {
  return new ConsumerApp(loadConfig(ConsumerEnv, { OPS_PORT: '0', ...env }), testLogger('consumer'), options);
}

export function cleanupApp(env: Record<string, string>): CleanupApp {
  return new CleanupApp(loadConfig(CleanupEnv, { OPS_PORT: '0', ...env }), testLogger('cleanup'));
}

export function notifierApp(
  env: Record<string, string>,
  options?: ConstructorParameters<typeof NotifierApp>[2],
): NotifierApp {
  return new NotifierApp(loadConfig(NotifierEnv, { OPS_PORT: '0', ...env }), testLogger('notifier'), options);
}

export interface Services {
  producer: ProducerApp;
  consumer: ConsumerApp;
  /** The producer's API port. */
  port: number;
  /** Stops what was started, the last first. */
  stop(): Promise<void>;
}

/**
 * A producer and a consumer on one env, and a notifier after them when asked, started in that
 * order (the producer first: it migrates the schema). `stop()` stops them in the reverse order.
 */
export async function startServices(
  env: Record<string, string>,
  { notifier = false }: { notifier?: boolean } = {},
): Promise<Services> {
  const producer = producerApp(env);
  const consumer = consumerApp(env);
  const started: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    for (const app of started.splice(0).reverse()) await app.stop();
  };
  try {
    for (const app of notifier ? [producer, consumer, notifierApp(env)] : [producer, consumer]) {
      await app.start();
      started.push(app);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { producer, consumer, port: producer.port, stop };
}

/** The secret the webhook tests' notifiers sign with, and their receivers verify. */
export const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

export async function postCallback(
  port: number,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`http://127.0.0.1:${port}/callback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5_000),
  });
  return { status: response.status, body: await response.json() };
}

export type { IsolatedEnv };
export { createIsolatedEnv };

// Tests read arbitrary JSON bodies and assert on them; `any` keeps those assertions readable.
/* eslint-disable @typescript-eslint/no-explicit-any */
export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON request to a service under test. */
export async function request<T = any>(
  port: number,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult<T>> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Waits until a job reaches a final status and returns it as the API shows it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function jobFinished(port: number, id: string, timeoutMs = 30_000): Promise<any> {
  return waitFor(
    `job ${id} finished`,
    async () => {
      const { body } = await request(port, 'GET', `/v1/jobs/${id}`);
      return ['succeeded', 'failed', 'cancelled'].includes(body.status) ? body : undefined;
    },
    { timeoutMs },
  );
}

/** Semiprimes measured on the 2-core machine: about 0.3 s, 4 s and 26 s to factor. */
export const QUICK_SEMIPRIME = {
  n: '480000000000000000919400000000000000323141',
  factors: ['600000000000000000871', '800000000000000000371'],
};
export const SLOW_SEMIPRIME = {
  n: '80000000000000000383400000000000000267471',
  factors: ['200000000000000000789', '400000000000000000339'],
};
export const VERY_SLOW_SEMIPRIME = {
  n: '2000000000000000002253000000000000000333801',
  factors: ['1000000000000000000951', '2000000000000000000351'],
};
