import { collectDefaultMetrics, Registry } from 'prom-client';

/** A Prometheus registry for one process: every metric labelled with `service`, plus Node's process metrics. */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
