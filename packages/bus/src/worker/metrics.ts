import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The consumer runtime's metrics, labelled by consumer group and topic. Several consumers of one process share
 * one registry: a metric already registered is reused.
 */
export interface ConsumerMetrics {
  processed: Counter<'group' | 'topic'>;
  deadLettered: Counter<'group' | 'topic' | 'kind'>;
  retries: Counter<'group' | 'topic' | 'kind'>;
  batchDuration: Histogram<'group' | 'topic'>;
  lag: Gauge<'group' | 'topic' | 'partition'>;
}

function reuse<M>(registry: Registry, name: string, create: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? create();
}

export function consumerMetrics(registry: Registry): ConsumerMetrics {
  const registers = [registry];
  return {
    processed: reuse(
      registry,
      'kafka_consumer_messages_processed_total',
      () =>
        new Counter({
          name: 'kafka_consumer_messages_processed_total',
          help: 'Messages handled successfully and committed',
          labelNames: ['group', 'topic'] as const,
          registers,
        }),
    ),
    deadLettered: reuse(
      registry,
      'kafka_consumer_messages_dead_lettered_total',
      () =>
        new Counter({
          name: 'kafka_consumer_messages_dead_lettered_total',
          help: 'Messages sent to the dead-letter topic: invalid (could not be decoded) or failed (after maxAttempts)',
          labelNames: ['group', 'topic', 'kind'] as const,
          registers,
        }),
    ),
    retries: reuse(
      registry,
      'kafka_consumer_retries_total',
      () =>
        new Counter({
          name: 'kafka_consumer_retries_total',
          help: 'Handler calls that failed and were retried: failed (counts towards maxAttempts) or retryable (a dependency is down)',
          labelNames: ['group', 'topic', 'kind'] as const,
          registers,
        }),
    ),
    batchDuration: reuse(
      registry,
      'kafka_consumer_batch_duration_seconds',
      () =>
        new Histogram({
          name: 'kafka_consumer_batch_duration_seconds',
          help: 'From receiving a batch to committing it, retries included',
          labelNames: ['group', 'topic'] as const,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
          registers,
        }),
    ),
    lag: reuse(
      registry,
      'kafka_consumer_lag',
      () =>
        new Gauge({
          name: 'kafka_consumer_lag',
          help: 'Messages between the committed offset and the high watermark, as of the last committed batch',
          labelNames: ['group', 'topic', 'partition'] as const,
          registers,
        }),
    ),
  };
}
