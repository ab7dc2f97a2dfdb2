// OpenTelemetry for a service, loaded before it: `node --import @outbound/observability/register <entry>` (after
// `--import tsx` in development; `dist/telemetry.js` when built). Does nothing unless an exporter is configured by the
// OTEL_* variables (see telemetry.ts); the service is named after its entry unless OTEL_SERVICE_NAME names it.
import { loadTelemetryConfig } from '@outbound/config';
import { loadConfigOrExit } from './process.ts';
import { serviceNameOf, startTelemetry } from './telemetry.ts';

const service = serviceNameOf(process.argv[1]);
await startTelemetry(
  loadConfigOrExit(service, () => loadTelemetryConfig()),
  service,
);
