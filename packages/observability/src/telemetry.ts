import { register } from 'node:module';
import path from 'node:path';
import { exportersToEnv, type TelemetryConfig, telemetrySignals } from '@outbound/config';

/**
 * OpenTelemetry in a process: the Node SDK (traces and metrics, exported as the standard `OTEL_*` variables say), the
 * W3C propagator, and the instrumentations of what the platform talks to: HTTP in and out (node:http, fetch/undici),
 * PostgreSQL (pg), Redis (ioredis), Cassandra and pino (trace ids in log lines). Kafka is traced by `@outbound/bus`
 * itself (its producer and consumer runtime) and GraphQL operations by the gateway's Yoga plugin, not by the kafkajs
 * and graphql instrumentations: see docs/decisions.md.
 *
 * Started by `register.ts` (`node --import`), before the service's modules load: the ESM loader hook
 * (import-in-the-middle) can only wrap a module imported after it is registered. Off unless an exporter is configured
 * (`telemetrySignals`): then nothing is loaded or registered, and the API's no-op tracer is all the code meets.
 */

/** What `node --import` loads before a service (development; `dist/telemetry.js` when built). */
export const TELEMETRY_REGISTER = '@outbound/observability/register';

/** The SDK, where the composition root's shutdown finds it (the register module may be a bundle of its own). */
const SDK = Symbol.for('outbound.telemetry.sdk');
type Holder = { [SDK]?: { shutdown(): Promise<void> } };

/**
 * Incoming requests not traced: health probes and Prometheus scrapes, and the carrier's requests, which the carrier
 * ingress spans itself as children of the trace context their signed URL carries (carrier-requests.ts), not of the
 * carrier's HTTP headers.
 */
export const UNTRACED_INCOMING = /^\/(healthz|readyz|metrics)(\?|$)|^\/(webhooks|flows)\/twilio\//;

/** The process's name from its entry: `apps/<name>/src/index.ts` in development, `dist/<name>.js` when built. */
export function serviceNameOf(entry: string | undefined): string {
  if (!entry) return 'outbound';
  const parts = path.resolve(entry).split(path.sep);
  const apps = parts.lastIndexOf('apps');
  if (apps >= 0 && parts[apps + 1]) return parts[apps + 1] as string;
  return path.basename(entry).replace(/\.(c|m)?(j|t)s$/, '');
}

/**
 * Starts the SDK if an exporter is configured; resolves (true) once the instrumentations are hooked. `serviceName`
 * is used when `OTEL_SERVICE_NAME` does not name the service.
 */
export async function startTelemetry(config: TelemetryConfig, serviceName: string): Promise<boolean> {
  const signals = telemetrySignals(config);
  if (!signals.traces && !signals.metrics) return false;
  exportersToEnv(signals);

  const { createAddHookMessageChannel } = await import('import-in-the-middle');
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);

  const [sdkNode, http, undici, pg, ioredis, cassandra, pino] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-undici'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
    import('@opentelemetry/instrumentation-cassandra-driver'),
    import('@opentelemetry/instrumentation-pino'),
  ]);
  const sdk = new sdkNode.NodeSDK({
    serviceName: config.OTEL_SERVICE_NAME ?? serviceName,
    instrumentations: [
      new http.HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_INCOMING.test(request.url ?? ''),
      }),
      new undici.UndiciInstrumentation(),
      // Queries outside a traced operation (pollers, leader renewals) would each be a trace of one span.
      new pg.PgInstrumentation({ requireParentSpan: true }),
      new ioredis.IORedisInstrumentation({ requireParentSpan: true }),
      new cassandra.CassandraDriverInstrumentation(),
      new pino.PinoInstrumentation({ disableLogSending: true }),
    ],
  });
  sdk.start();
  await waitForAllMessagesAcknowledged();
  (globalThis as Holder)[SDK] = sdk;
  return true;
}

/** Flushes and stops the SDK, if it runs (the last step of a graceful shutdown). */
export async function stopTelemetry(): Promise<void> {
  const holder = globalThis as Holder;
  const sdk = holder[SDK];
  delete holder[SDK];
  await sdk?.shutdown();
}
