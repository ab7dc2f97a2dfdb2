import type { Logger } from './logger.ts';
import { stopTelemetry } from './telemetry.ts';

/**
 * Reads a process's configuration; a bad environment ends the process at once with the list of every problem
 * (the config module's error message), before anything else starts.
 */
export function loadConfigOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof Error && err.name === 'ConfigError') {
      process.stderr.write(`${service}: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/**
 * Graceful shutdown on SIGTERM / SIGINT, once: runs `stop` (finish in-flight work, commit, close clients), flushes
 * the telemetry (if on), then exits 0, or 1 when stopping failed.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down');
      stop()
        .then(() => stopTelemetry().catch((err: unknown) => logger.warn({ err }, 'telemetry not flushed')))
        .then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
    });
  }
}
