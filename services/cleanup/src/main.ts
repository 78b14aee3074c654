import { createLogger, loadConfigOrExit, onShutdownSignal, withDotenv } from '@conveyor/platform';
import { CleanupEnv } from './config.js';
import { CleanupApp } from './cleanup-app.js';

const config = loadConfigOrExit('cleanup', CleanupEnv, withDotenv(process.env));
const log = createLogger({ service: 'cleanup', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
const app = new CleanupApp(config, log);
onShutdownSignal(log, () => app.stop());
await app.start();
