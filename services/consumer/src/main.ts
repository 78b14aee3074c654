import { fileURLToPath } from 'node:url';
import { createLogger, loadConfigOrExit, onShutdownSignal, withDotenv } from '@conveyor/platform';
import { ConsumerEnv } from './config.js';
import { ConsumerApp } from './consumer-app.js';

const config = loadConfigOrExit('consumer', ConsumerEnv, withDotenv(process.env));
const log = createLogger({ service: 'consumer', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
const app = new ConsumerApp(config, log, { workerDir: fileURLToPath(new URL('./workers/', import.meta.url)) });
onShutdownSignal(log, () => app.stop());
await app.start();
