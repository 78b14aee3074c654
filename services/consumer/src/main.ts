import { createLogger, loadConfigOrExit, onShutdownSignal, orExit, withDotenv } from '@conveyor/platform';
import { ConsumerEnv } from './config.js';
import { ConsumerApp } from './consumer-app.js';
import { loadHostedKinds } from './job-host/hosted-kinds.js';

const config = loadConfigOrExit('consumer', ConsumerEnv, withDotenv(process.env));
const log = createLogger({ service: 'consumer', level: config.LOG_LEVEL, format: config.LOG_FORMAT });
const jobModules = await orExit(log, 'loading job modules', () => loadHostedKinds(config.WORKER_MODULES));
const app = new ConsumerApp(config, log, { jobModules });
onShutdownSignal(log, () => app.stop());
await orExit(log, 'consumer start', () => app.start());
