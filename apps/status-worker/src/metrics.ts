import { Counter, Histogram, type Registry } from 'prom-client';

export interface StatusWorkerMetrics {
  applied: Counter<'to'>;
  ignored: Counter<'reason'>;
  duplicates: Counter;
  retriesScheduled: Counter;
  optOuts: Counter;
  slotReleaseFailures: Counter;
  liveUpdateFailures: Counter;
  throughputFailures: Counter;
  transactionDuration: Histogram;
}

export function statusWorkerMetrics(registry: Registry): StatusWorkerMetrics {
  const registers = [registry];
  return {
    applied: new Counter({
      name: 'status_worker_transitions_total',
      help: 'Call state transitions applied, by target state',
      labelNames: ['to'] as const,
      registers,
    }),
    ignored: new Counter({
      name: 'status_worker_events_ignored_total',
      help: 'Messages that changed nothing: status events of an older attempt (stale-attempt), of an ended one (late), a second progress (duplicate-progress); flow events of an attempt the call never had (unknown-attempt); suppress messages with no call to the number (no-call), a call no longer waiting (not-waiting), a number off the list again (not-listed)',
      labelNames: ['reason'] as const,
      registers,
    }),
    duplicates: new Counter({
      name: 'status_worker_events_duplicate_total',
      help: 'Events already in the processed-event ledger (redeliveries, duplicate callbacks)',
      registers,
    }),
    retriesScheduled: new Counter({
      name: 'status_worker_retries_scheduled_total',
      help: 'Retry messages produced (calls moved to RETRY_SCHEDULED)',
      registers,
    }),
    optOuts: new Counter({
      name: 'status_worker_opt_outs_total',
      help: 'Keypad opt-outs applied (each sends suppress messages to the campaigns with calls waiting to the number)',
      registers,
    }),
    slotReleaseFailures: new Counter({
      name: 'status_worker_slot_release_failures_total',
      help: 'Concurrency slots that could not be released after commit (they expire with their lease)',
      registers,
    }),
    liveUpdateFailures: new Counter({
      name: 'status_worker_live_update_failures_total',
      help: 'Batches whose live updates could not be published after commit (the next change supersedes them)',
      registers,
    }),
    throughputFailures: new Counter({
      name: 'status_worker_throughput_failures_total',
      help: "Batches whose attempt endings could not be added to the dashboard's throughput series after commit",
      registers,
    }),
    transactionDuration: new Histogram({
      name: 'status_worker_transaction_duration_seconds',
      help: 'The PostgreSQL transaction of a batch, retry produce included',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  };
}
