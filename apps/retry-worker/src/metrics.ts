import { Counter, type Registry } from 'prom-client';

export interface RetryWorkerMetrics {
  forwarded: Counter<'to'>;
  skipped: Counter;
  paused: Counter;
  earlyReads: Counter;
}

export function retryWorkerMetrics(registry: Registry): RetryWorkerMetrics {
  const registers = [registry];
  return {
    forwarded: new Counter({
      name: 'retry_worker_retries_total',
      help: 'Due retries applied: QUEUED (dispatched) or PENDING (campaign not running: the scheduler dials it after resume)',
      labelNames: ['to'] as const,
      registers,
    }),
    skipped: new Counter({
      name: 'retry_worker_retries_skipped_total',
      help: 'Due retries whose call is no longer RETRY_SCHEDULED with that attempt id (stale, cancelled, redelivered)',
      registers,
    }),
    paused: new Counter({
      name: 'retry_worker_partition_pauses_total',
      help: 'Times a partition paused until its next retry is due',
      registers,
    }),
    earlyReads: new Counter({
      name: 'retry_worker_early_reads_total',
      help: 'Times a due retry was read before the status worker committed its call as RETRY_SCHEDULED, and looked at again shortly',
      registers,
    }),
  };
}
