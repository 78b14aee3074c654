import { NotificationListener } from '@conveyor/database';
import type { Logger } from '@conveyor/platform';
import type { ApiKeyCache } from './api-key-cache.js';
import { API_KEY_REVOKED_CHANNEL, revokedClientIdOf } from './api-client.repository.js';

/**
 * Keeps `keys` in step with revocations made anywhere (the CLI, another process): a revoked
 * client's keys are forgotten as the notification arrives, and the cache is trusted only while
 * this listener is connected.
 */
export function listenForRevocations(options: {
  databaseUrl: string;
  schema: string;
  log: Logger;
  keys: ApiKeyCache;
}): NotificationListener {
  const { keys, schema } = options;
  return new NotificationListener({
    url: options.databaseUrl,
    channel: API_KEY_REVOKED_CHANNEL,
    applicationName: `conveyor-producer revocations ${schema}`,
    log: options.log,
    onNotification: (payload) => {
      const clientId = revokedClientIdOf(payload, schema);
      if (clientId === undefined) return;
      keys.revoked(clientId);
      options.log.info('api key revoked', { clientId });
    },
    onListeningChange: (listening) => keys.revocationsHeard(listening),
  });
}
