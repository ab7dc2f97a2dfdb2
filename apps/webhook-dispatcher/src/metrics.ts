import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export function dispatcherMetrics(registry: Registry) {
  return {
    deliveriesCreated: new Counter({
      name: 'webhook_deliveries_created_total',
      help: 'Deliveries written (one per event and subscribed endpoint; a redelivered event adds none)',
      registers: [registry],
    }),
    attempts: new Counter({
      name: 'webhook_attempts_total',
      help: 'Webhook requests made, by result: delivered (2xx), failed (any other answer, a timeout, a connection error), refused (the target guard refused the address)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    attemptSeconds: new Histogram({
      name: 'webhook_attempt_seconds',
      help: 'Duration of webhook requests, from connecting to the response excerpt',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    givenUp: new Counter({
      name: 'webhook_deliveries_failed_total',
      help: 'Deliveries given up on: still failing at the end of their retry window',
      registers: [registry],
    }),
    endpointsDisabled: new Counter({
      name: 'webhook_endpoints_disabled_total',
      help: 'Endpoints disabled automatically after a long run of failures',
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'webhook_requests_in_flight',
      help: 'Webhook requests in flight in this process',
      registers: [registry],
    }),
    relayed: new Counter({
      name: 'campaign_status_events_relayed_total',
      help: 'Campaign status changes relayed from their outbox to campaign.events',
      registers: [registry],
    }),
  };
}

export type DispatcherMetrics = ReturnType<typeof dispatcherMetrics>;
