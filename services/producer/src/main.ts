import { createLogger, loadConfigOrExit, onShutdownSignal, withDotenv } from '@conveyor/platform';
import { ProducerEnv } from './config.js';
import { ProducerApp } from './producer-app.js';

const config = loadConfigOrExit('producer', ProducerEnv, withDotenv(process.env));
const log = createLogger({ service: 'producer', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
const app = new ProducerApp(config, log);
onShutdownSignal(log, () => app.stop());
await app.start();
