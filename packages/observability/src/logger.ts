import { pino } from 'pino';

export type Logger = pino.Logger;

export interface LoggerOptions {
  /** The process or component name, on every line as `service`. */
  service: string;
  level: pino.LevelWithSilent;
  /** Where the lines go: stdout (services), or stderr (command-line tools, whose stdout is their answer). */
  stream?: 'stdout' | 'stderr';
}

/** JSON logs with the service name and ISO timestamps; errors under `err` keep their stack and cause. */
export function createLogger({ service, level, stream = 'stdout' }: LoggerOptions): Logger {
  return pino(
    {
      level,
      base: { service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.errWithCause },
    },
    // pino's own destination for services; stderr written synchronously, as a short-lived tool exits at once.
    stream === 'stderr' ? pino.destination({ dest: 2, sync: true }) : undefined,
  );
}
