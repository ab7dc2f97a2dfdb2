import { loadTelemetryConfig, telemetrySignals } from '@outbound/config';
import { describe, expect, it } from 'vitest';
import { serviceNameOf, UNTRACED_INCOMING } from './telemetry.ts';

const signals = (env: Record<string, string>) => telemetrySignals(loadTelemetryConfig(env));

describe('telemetry configuration', () => {
  it('is off by default, on with an OTLP endpoint, off again with OTEL_SDK_DISABLED', () => {
    expect(signals({})).toEqual({ traces: false, metrics: false });
    expect(signals({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({
      traces: true,
      metrics: true,
    });
    expect(
      signals({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }),
    ).toEqual({ traces: false, metrics: false });
  });

  it('follows the exporter lists and the per-signal endpoints', () => {
    expect(signals({ OTEL_TRACES_EXPORTER: 'console' })).toEqual({ traces: true, metrics: false });
    expect(
      signals({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_METRICS_EXPORTER: 'none' }),
    ).toEqual({ traces: true, metrics: false });
    expect(signals({ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://collector:4318/v1/metrics' })).toEqual({
      traces: false,
      metrics: true,
    });
  });

  it('refuses what the SDK would not understand', () => {
    expect(() => loadTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
    expect(() => loadTelemetryConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'udp' })).toThrow(
      /OTEL_EXPORTER_OTLP_PROTOCOL/,
    );
  });

  it('names a service after its entry, in development and built', () => {
    expect(serviceNameOf('/srv/app/apps/call-worker/src/index.ts')).toBe('call-worker');
    expect(serviceNameOf('apps/gateway/src/index.ts')).toBe('gateway');
    expect(serviceNameOf('/srv/app/dist/status-worker.js')).toBe('status-worker');
  });

  it('leaves probes, scrapes and carrier requests untraced by the HTTP instrumentation', () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/webhooks/twilio/status?attemptId=1'])
      expect(UNTRACED_INCOMING.test(path)).toBe(true);
    for (const path of ['/graphql', '/metricsx', '/downloads/1'])
      expect(UNTRACED_INCOMING.test(path)).toBe(false);
  });
});
