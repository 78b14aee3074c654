import { resolve } from 'node:path';
import { loadConfig, silentLogger, createLogger } from '@conveyor/platform';
import { createIsolatedEnv, type IsolatedEnv } from '@conveyor/testkit';
import { CleanupEnv } from '../services/cleanup/src/config.js';
import { CleanupApp } from '../services/cleanup/src/cleanup-app.js';
import { ConsumerEnv } from '../services/consumer/src/config.js';
import { ConsumerApp } from '../services/consumer/src/consumer-app.js';
import { ProducerEnv } from '../services/producer/src/config.js';
import { ProducerApp } from '../services/producer/src/producer-app.js';

/** Services in this test process, each configured like main.ts would, but pointed at the test's own corner. */
export function testLogger(service: string) {
  return process.env.TEST_LOG_LEVEL ? createLogger({ service, level: process.env.TEST_LOG_LEVEL, format: 'pretty' }) : silentLogger();
}

export function producerApp(env: Record<string, string>): ProducerApp {
  return new ProducerApp(loadConfig(ProducerEnv, { PORT: '0', ...env }), testLogger('producer'));
}

export function consumerApp(env: Record<string, string>): ConsumerApp {
  return new ConsumerApp(loadConfig(ConsumerEnv, { OPS_PORT: '0', ...env }), testLogger('consumer'), { workerDir: resolve(__dirname, '../services/consumer/dist/workers') });
}

export function cleanupApp(env: Record<string, string>): CleanupApp {
  return new CleanupApp(loadConfig(CleanupEnv, { OPS_PORT: '0', ...env }), testLogger('cleanup'));
}

export async function postCallback(port: number, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
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
