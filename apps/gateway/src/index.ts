// Composition root of the gateway process: config, logger, start, graceful shutdown on SIGTERM / SIGINT.
import { createLogger, loadConfigOrExit, startupPhases, stopOnSignals } from '@outbound/observability';
import { startGateway } from './app.ts';
import { loadConfig } from './environment.ts';

// Every module is loaded (and compiled, under tsx) by now: the first phase of the start.
const phases = startupPhases();
phases.mark('modules');

const config = loadConfigOrExit('gateway', () => loadConfig());

const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
const gateway = await startGateway(config, logger, phases);

stopOnSignals(logger, () => gateway.stop());
