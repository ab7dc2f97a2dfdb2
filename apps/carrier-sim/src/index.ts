// Composition root of the carrier simulator process: config, logger, start, graceful shutdown on SIGTERM / SIGINT.
import { ConfigError } from '@outbound/config';
import { createLogger } from '@outbound/observability';
import { type CarrierSimConfig, loadConfig } from './environment.ts';
import { startSimulator } from './server.ts';

let config: CarrierSimConfig;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`carrier-sim: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

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

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    sim.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
