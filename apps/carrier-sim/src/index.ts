// Composition root of the carrier simulator process: config, logger, start, graceful shutdown on SIGTERM / SIGINT.
import { createLogger, loadConfigOrExit, stopOnSignals } from '@outbound/observability';
import { loadConfig } from './environment.ts';
import { startSimulator } from './server.ts';

const config = loadConfigOrExit('carrier-sim', () => loadConfig());

const logger = createLogger({ service: 'carrier-sim', level: config.logLevel });
const sim = await startSimulator({
  authToken: config.authToken,
  accountSid: config.accountSid,
  host: config.host,
  port: config.port,
  seed: config.seed,
  behaviour: config.behaviour,
  shutdownGraceMs: config.shutdownGraceMs,
  logger,
});

stopOnSignals(logger, () => sim.stop());
