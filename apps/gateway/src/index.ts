// Composition root of the gateway process: config, logger, start, graceful shutdown on SIGTERM / SIGINT.
import { createLogger, loadConfigOrExit, stopOnSignals } from '@outbound/observability';
import { startGateway } from './app.ts';
import { loadConfig } from './environment.ts';

const config = loadConfigOrExit('gateway', () => loadConfig());

const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
const gateway = await startGateway(config, logger);

stopOnSignals(logger, () => gateway.stop());
