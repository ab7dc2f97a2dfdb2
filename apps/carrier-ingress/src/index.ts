// Composition root of the carrier ingress: config, logger, start, graceful shutdown on SIGTERM / SIGINT.
import { createLogger, loadConfigOrExit, stopOnSignals } from '@outbound/observability';
import { startCarrierIngress } from './app.ts';
import { loadConfig } from './environment.ts';

const config = loadConfigOrExit('carrier-ingress', () => loadConfig());

const logger = createLogger({ service: 'carrier-ingress', level: config.LOG_LEVEL });
const ingress = await startCarrierIngress(config, logger);

stopOnSignals(logger, () => ingress.stop());
