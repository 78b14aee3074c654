import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase } from '@conveyor/database';
import { silentLogger } from '@conveyor/platform';
import { TEST_DATABASE_URL } from '@conveyor/testkit';
import { createApiClient } from '../../services/producer/src/auth/api-client.repository.js';
import {
  cleanupApp,
  createIsolatedEnv,
  notifierApp,
  startServices,
  type IsolatedEnv,
  type Services,
} from '../harness.js';

/**
 * A producer and consumer with API keys on (and a notifier and cleanup when asked), plus the
 * first operator key, made the bootstrap way (`pnpm client:create --role operator`: straight
 * into the database). Further keys are made over the API by the tests.
 */
export interface AuthStack {
  isolated: IsolatedEnv;
  services: Services;
  baseUrl: string;
  operatorKey: string;
  storageRoot: string;
  stop(): Promise<void>;
}

export async function startAuthStack(
  label: string,
  options: { notifier?: boolean; cleanup?: boolean; env?: Record<string, string> } = {},
): Promise<AuthStack> {
  const isolated = await createIsolatedEnv(label);
  const storageRoot = mkdtempSync(join(tmpdir(), `${label}-`));
  const env = {
    ...isolated.env,
    AUTH_ENABLED: 'true',
    STORAGE_ROOT: storageRoot,
    JOB_CHECK_INTERVAL_MS: '200',
    ...options.env,
  };
  const services = await startServices(env);
  const extra: { stop(): Promise<void> }[] = [];
  const stop = async () => {
    for (const app of extra.reverse()) await app.stop();
    await services.stop();
    await isolated.dispose();
  };
  try {
    if (options.notifier) {
      const notifier = notifierApp(env);
      await notifier.start();
      extra.push(notifier);
    }
    if (options.cleanup) {
      const cleanup = cleanupApp(env);
      await cleanup.start();
      extra.push(cleanup);
    }
    const database = createDatabase({
      url: TEST_DATABASE_URL,
      schema: isolated.schema,
      poolMax: 1,
      log: silentLogger(),
    });
    const operator = await createApiClient(database.db, 'ops', 'operator').finally(() => database.close());
    return {
      isolated,
      services,
      baseUrl: `http://127.0.0.1:${services.port}`,
      operatorKey: operator.apiKey,
      storageRoot,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
