import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The gateway's Prometheus registry: process metrics plus HTTP and GraphQL operation metrics. */
export function createMetrics() {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'gateway' });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Histogram({
      name: 'gateway_http_request_duration_seconds',
      help: 'HTTP requests by route and status',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    graphqlOperations: new Counter({
      name: 'gateway_graphql_operations_total',
      help: 'GraphQL operations by type, first root field and result',
      labelNames: ['type', 'field', 'result'] as const,
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'gateway_rate_limited_total',
      help: 'Requests refused by the per-caller rate limit',
      registers: [registry],
    }),
    liveReads: new Counter({
      name: 'gateway_live_reads_total',
      help: "PostgreSQL reads of the live subscriptions: a subscriber's current state (snapshot), or after a Redis reconnection (resync, one per channel)",
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    /** Reports the open GraphQL WebSockets and the fan-out's subscriptions through `read`, at each scrape. */
    observeSockets(read: () => { sockets: number; fanoutSubscriptions: number }): void {
      new Gauge({
        name: 'gateway_websockets_open',
        help: 'Open GraphQL WebSockets (subscriptions) on this gateway',
        registers: [registry],
        collect() {
          this.set(read().sockets);
        },
      });
      new Gauge({
        name: 'gateway_live_fanout_subscriptions',
        help: 'Subscriptions served by the live fan-out (no GraphQL execution per message)',
        registers: [registry],
        collect() {
          this.set(read().fanoutSubscriptions);
        },
      });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
