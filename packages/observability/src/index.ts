export { type HealthServer, type HealthServerOptions, startHealthServer } from './health-server.ts';
export { readBody } from './http-body.ts';
export { createLogger, type Logger, type LoggerOptions } from './logger.ts';
export { createMetricsRegistry } from './metrics.ts';
export { loadConfigOrExit, stopOnSignals } from './process.ts';
export { recordSpan, type SpanOptions, withSpan } from './spans.ts';
export { readinessLog, type StartupPhases, startupPhases } from './startup.ts';
export { TELEMETRY_REGISTER } from './telemetry.ts';
