import { z } from 'zod';
import { bool, commaList } from './fields.ts';
import { type EnvSource, parseEnv } from './parse-env.ts';

const otlpUrl = z
  .string()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    message: 'must be an http(s) URL',
  })
  .optional();

/**
 * OpenTelemetry, by the SDK's standard variables (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/).
 * Only the ones that decide whether telemetry runs and what a service is called are read here; the SDK reads the
 * others itself (`OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER_ARG`, `OTEL_RESOURCE_ATTRIBUTES`, …). Off unless an
 * exporter is configured: see `telemetrySignals`.
 */
export const telemetryEnv = {
  /** true: off whatever else is set. */
  OTEL_SDK_DISABLED: bool(false),
  /** The collector's base URL (`/v1/traces` and `/v1/metrics` are added); setting it turns traces and metrics on. */
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl,
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: otlpUrl,
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/protobuf', 'http/json', 'grpc']).default('http/protobuf'),
  /** `otlp`, `console`, `zipkin` or `none`; default `otlp` when an endpoint is set, `none` otherwise. */
  OTEL_TRACES_EXPORTER: commaList(''),
  /** `otlp`, `console`, `prometheus` or `none`; default as for traces. */
  OTEL_METRICS_EXPORTER: commaList(''),
  /** Default: the process's name (`call-worker`, `gateway`, …). */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_TRACES_SAMPLER: z
    .enum([
      'always_on',
      'always_off',
      'traceidratio',
      'parentbased_always_on',
      'parentbased_always_off',
      'parentbased_traceidratio',
    ])
    .default('parentbased_always_on'),
};

export type TelemetryConfig = z.infer<z.ZodObject<typeof telemetryEnv>>;

/** Which exporters run: each signal is on when its exporter list names one (not `none`), or when an endpoint for it is set. */
export function telemetrySignals(config: TelemetryConfig): { traces: boolean; metrics: boolean } {
  if (config.OTEL_SDK_DISABLED) return { traces: false, metrics: false };
  const on = (exporters: string[], endpoint: string | undefined) =>
    exporters.length > 0 ? !exporters.every((e) => e === 'none') : endpoint !== undefined;
  return {
    traces: on(
      config.OTEL_TRACES_EXPORTER,
      config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? config.OTEL_EXPORTER_OTLP_ENDPOINT,
    ),
    metrics: on(
      config.OTEL_METRICS_EXPORTER,
      config.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT ?? config.OTEL_EXPORTER_OTLP_ENDPOINT,
    ),
  };
}

export function loadTelemetryConfig(env: EnvSource = process.env): TelemetryConfig {
  return parseEnv(telemetryEnv, env);
}

/**
 * The SDK reads its exporters from the environment itself: this writes there what `telemetrySignals` decided (an
 * exporter list already set is kept), and no OpenTelemetry logs (pino writes the logs).
 */
export function exportersToEnv(
  signals: { traces: boolean; metrics: boolean },
  env: Record<string, string | undefined> = process.env,
): void {
  env.OTEL_TRACES_EXPORTER ||= signals.traces ? 'otlp' : 'none';
  env.OTEL_METRICS_EXPORTER ||= signals.metrics ? 'otlp' : 'none';
  env.OTEL_LOGS_EXPORTER ||= 'none';
}
