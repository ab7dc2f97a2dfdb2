import { pino } from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** The process or component name, on every line as `service`. */
  service: string;
  level: pino.LevelWithSilent;
}

/** JSON logs on stdout with the service name and ISO timestamps; errors under `err` keep their stack and cause. */
export function createLogger({ service, level }: LoggerOptions): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: pino.stdSerializers.errWithCause },
  });
}
