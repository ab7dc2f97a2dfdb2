export { type HealthServer, type HealthServerOptions, startHealthServer } from './health-server.ts';
export { createLogger, type Logger, type LoggerOptions } from './logger.ts';
export { createMetricsRegistry } from './metrics.ts';
export { loadConfigOrExit, stopOnSignals } from './process.ts';
export { recordSpan, type SpanOptions, withSpan } from './spans.ts';
export { readinessLog, type StartupPhases, startupPhases } from './startup.ts';
export {
  serviceNameOf,
  startTelemetry,
  stopTelemetry,
  TELEMETRY_REGISTER,
  UNTRACED_INCOMING,
} from './telemetry.ts';
