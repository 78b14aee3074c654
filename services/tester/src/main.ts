/**
 * Composition root of the upstream simulator: serves the objects API our consumers query and,
 * unless disabled, sends the periodic callbacks our producer receives.
 */
import { startCallbackSender } from './callback-sender.js';
import { loadTesterConfig } from './config.js';
import { startObjectsApi } from './objects-api.js';

type Level = 'info' | 'warn' | 'error';

/** One JSON line per event on stdout, until the shared logger replaces it. */
function log(level: Level, message: string, meta: object = {}): void {
  console.log(JSON.stringify({ level, service: 'tester', message, ...meta }));
}

async function main(): Promise<void> {
  const config = loadTesterConfig(process.env);

  const objectsApi = await startObjectsApi(config.objectsApi);
  log('info', 'objects API listening', { ...config.objectsApi, port: objectsApi.port });

  const { enabled: senderEnabled, ...senderSettings } = config.callbackSender;
  const callbackSender = senderEnabled
    ? startCallbackSender({ ...senderSettings, log: (message, meta) => log('warn', message, meta) })
    : undefined;
  log('info', senderEnabled ? 'callback sender started' : 'callback sender disabled', senderSettings);

  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    log('info', 'shutting down', { signal });
    callbackSender?.stop();
    await objectsApi.close();
    log('info', 'stopped', { objectsApi: objectsApi.stats(), callbacks: callbackSender?.stats() });
    process.exit(0);
  };
  process.once('SIGINT', (signal) => void shutdown(signal).catch(exitWithError));
  process.once('SIGTERM', (signal) => void shutdown(signal).catch(exitWithError));
}

function exitWithError(error: unknown): never {
  log('error', 'tester failed', { error: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

main().catch(exitWithError);
