/**
 * Composition root of the upstream simulator: serves the objects API our consumers query and,
 * unless disabled, sends the periodic callbacks our producer receives.
 */
import {
  createLogger,
  errorMessage,
  loadConfigOrExit,
  onShutdownSignal,
  withDotenv,
} from '@conveyor/platform';
import { startCallbackSender } from './callback-sender.js';
import { TesterEnv } from './config.js';
import { startObjectsApi } from './objects-api.js';

const env = withDotenv(process.env);
const config = loadConfigOrExit('tester', TesterEnv, env);
const log = createLogger({
  service: 'tester',
  level: env.LOG_LEVEL ?? 'info',
  format: env.LOG_FORMAT === 'pretty' ? 'pretty' : 'json',
});

const objectsApi = await startObjectsApi(config.objectsApi);
log.info('objects API listening', { ...config.objectsApi, port: objectsApi.port });

const { enabled: senderEnabled, ...senderSettings } = config.callbackSender;
const callbackSender = senderEnabled
  ? startCallbackSender({ ...senderSettings, log: (message, meta) => log.warn(message, meta) })
  : undefined;
log.info(senderEnabled ? 'callback sender started' : 'callback sender disabled', senderSettings);

onShutdownSignal(log, async () => {
  callbackSender?.stop();
  await objectsApi.close();
  log.info('stopped', { objectsApi: objectsApi.stats(), callbacks: callbackSender?.stats() });
});
process.on('unhandledRejection', (error) => {
  log.error('tester failed', { error: errorMessage(error) });
  process.exit(1);
});
