import { createLogger, loadConfigOrExit, onShutdownSignal, withDotenv } from '@conveyor/platform';
import { NotifierEnv } from './config.js';
import { NotifierApp } from './notifier-app.js';

const config = loadConfigOrExit('notifier', NotifierEnv, withDotenv(process.env));
const log = createLogger({ service: 'notifier', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
const app = new NotifierApp(config, log);
onShutdownSignal(log, () => app.stop());
await app.start();
