import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type WaitKind = 'slot' | 'campaign_cps' | 'provider_cps' | 'worker_concurrency';

/** The call-worker's own metrics (the consumer runtime adds its `kafka_consumer_*` ones to the same registry). */
export interface CallWorkerMetrics {
  originated: Counter;
  rejected: Counter<'code'>;
  carrierCpsRetries: Counter;
  unknownOutcome: Counter;
  settled: Counter<'reason'>;
  ignored: Counter<'reason'>;
  waits: Counter<'kind'>;
  waitSeconds: Histogram<'kind'>;
  originateSeconds: Histogram<'result'>;
  inFlight: Gauge;
  leasesReleased: Counter<'by'>;
}

function reuse<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

export function callWorkerMetrics(registry: Registry): CallWorkerMetrics {
  const registers = [registry];
  return {
    originated: reuse(
      registry,
      'call_worker_originated_total',
      () =>
        new Counter({
          name: 'call_worker_originated_total',
          help: 'Calls the provider accepted',
          registers,
        }),
    ),
    rejected: reuse(
      registry,
      'call_worker_rejected_total',
      () =>
        new Counter({
          name: 'call_worker_rejected_total',
          help: 'Originates the provider refused for good (no call placed; reported as a FAILED attempt), by code',
          labelNames: ['code'] as const,
          registers,
        }),
    ),
    carrierCpsRetries: reuse(
      registry,
      'call_worker_carrier_cps_retries_total',
      () =>
        new Counter({
          name: 'call_worker_carrier_cps_retries_total',
          help: 'Originates sent again after the carrier refused them for pacing (HTTP 429) or was unreachable',
          registers,
        }),
    ),
    unknownOutcome: reuse(
      registry,
      'call_worker_unknown_outcome_total',
      () =>
        new Counter({
          name: 'call_worker_unknown_outcome_total',
          help: 'Originates whose outcome is unknown (timeout, 5xx): left DIALING for callbacks or the reaper',
          registers,
        }),
    ),
    settled: reuse(
      registry,
      'call_worker_settled_without_dialing_total',
      () =>
        new Counter({
          name: 'call_worker_settled_without_dialing_total',
          help: 'Queued calls settled without dialling (back to PENDING, CANCELLED or SKIPPED), by reason',
          labelNames: ['reason'] as const,
          registers,
        }),
    ),
    ignored: reuse(
      registry,
      'call_worker_ignored_total',
      () =>
        new Counter({
          name: 'call_worker_ignored_total',
          help: 'Dispatch messages that changed nothing: duplicate, stale (the call moved on), unknown campaign or call',
          labelNames: ['reason'] as const,
          registers,
        }),
    ),
    waits: reuse(
      registry,
      'call_worker_waits_total',
      () =>
        new Counter({
          name: 'call_worker_waits_total',
          help: 'Dials that had to wait: for a campaign concurrency slot, a campaign or provider CPS token, or a worker permit',
          labelNames: ['kind'] as const,
          registers,
        }),
    ),
    waitSeconds: reuse(
      registry,
      'call_worker_wait_seconds',
      () =>
        new Histogram({
          name: 'call_worker_wait_seconds',
          help: 'How long dials that had to wait waited, by what they waited for',
          labelNames: ['kind'] as const,
          buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
          registers,
        }),
    ),
    originateSeconds: reuse(
      registry,
      'call_worker_originate_duration_seconds',
      () =>
        new Histogram({
          name: 'call_worker_originate_duration_seconds',
          help: "The provider's originate request, by result (accepted, rejected, unavailable)",
          labelNames: ['result'] as const,
          buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers,
        }),
    ),
    inFlight: reuse(
      registry,
      'call_worker_dials_in_flight',
      () =>
        new Gauge({
          name: 'call_worker_dials_in_flight',
          help: 'Dispatch messages being dialled by this process (bounded by CALL_WORKER_CONCURRENCY)',
          registers,
        }),
    ),
    leasesReleased: reuse(
      registry,
      'call_worker_leases_released_total',
      () =>
        new Counter({
          name: 'call_worker_leases_released_total',
          help: 'Concurrency leases left by a worker that died or a lost release, given back: by the redelivered dispatch of a call that moved on (dispatch) or by the lease reconciliation (reconciliation)',
          labelNames: ['by'] as const,
          registers,
        }),
    ),
  };
}
