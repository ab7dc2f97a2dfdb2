import { setTimeout as sleep } from 'node:timers/promises';
import {
  type BatchConsumer,
  type BatchConsumerOptions,
  type BusProducer,
  createBatchConsumer,
  type TopicNames,
} from '@outbound/bus';
import { type TPlatformEvent, ZPlatformEvent } from '@outbound/contracts';
import type { Logger } from '@outbound/observability';
import type { Resolver } from '@outbound/webhooks';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { ingest } from './ingest.ts';
import { dispatcherMetrics } from './metrics.ts';
import { relayCampaignStatus } from './relay.ts';
import { purgeWebhookLog } from './retention.ts';
import { createSender, type SenderOptions } from './sender.ts';

export const CONSUMER_NAME = 'webhook-dispatcher';

export interface WebhookDispatcherOptions {
  kafka: Kafka;
  /** Relays the campaign status outbox, and dead-letters what the consumer cannot read. */
  producer: BusProducer;
  topics: Pick<TopicNames, 'events' | 'deadLetter'>;
  /** `<KAFKA_TOPIC_PREFIX>webhook-dispatcher`; also names the relay's lock. */
  groupId: string;
  pool: pg.Pool;
  logger: Logger;
  registry: Registry;
  relayMs: number;
  retentionMs: number;
  retryWindowMs: number;
  sender: Omit<SenderOptions, 'pool' | 'logger' | 'metrics' | 'resolve'>;
  /** Tests resolve names of their own. */
  resolve?: Resolver;
  consumer?: Pick<
    BatchConsumerOptions<TPlatformEvent>,
    'maxAttempts' | 'retryBackoffMs' | 'retryableBackoffMs' | 'maxWaitTimeInMs'
  >;
}

export interface WebhookDispatcher {
  start(): Promise<void>;
  stop(): Promise<void>;
  isReady(): boolean;
}

/** How often old deliveries are purged. */
const RETENTION_INTERVAL_MS = 10 * 60 * 1000;

/**
 * The webhook dispatcher: (1) consumes `campaign.events` in its own group and writes each batch's deliveries to
 * PostgreSQL (committing the offsets only then); (2) a bounded worker pool sends due deliveries, never holding the
 * consumer; (3) relays the campaign status outbox to `campaign.events`; (4) purges the old delivery log.
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { pool, registry } = options;
  const logger = options.logger.child({ component: 'webhook-dispatcher' });
  const metrics = dispatcherMetrics(registry);
  const sender = createSender({
    ...options.sender,
    pool,
    logger: options.logger,
    metrics,
    ...(options.resolve && { resolve: options.resolve }),
  });
  const stopping = new AbortController();
  let loops: Promise<void>[] = [];
  let consumer: BatchConsumer | null = null;

  async function every(ms: number, what: string, fn: () => Promise<void>): Promise<void> {
    while (!stopping.signal.aborted) {
      try {
        await fn();
      } catch (err) {
        logger.warn({ err }, `${what} failed; trying again`);
      }
      await sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  }

  return {
    async start() {
      await options.producer.connect();
      consumer = createBatchConsumer<TPlatformEvent>({
        kafka: options.kafka,
        groupId: options.groupId,
        name: CONSUMER_NAME,
        topics: [options.topics.events],
        schema: ZPlatformEvent,
        logger: options.logger,
        deadLetterTopic: options.topics.deadLetter,
        producer: options.producer,
        registry,
        partitionsConsumedConcurrently: 3,
        // Off the calls' path: a partner hears of an event up to the linger later, and the ingest writes fewer batches.
        fetchLinger: true,
        handleBatch: async (batch) => {
          const report = await ingest(
            pool,
            batch.messages.map((m) => m.message),
            options.retryWindowMs,
          );
          metrics.deliveriesCreated.inc(report.deliveries);
          if (report.deliveries > 0) sender.wake();
        },
        ...options.consumer,
      });
      sender.start();
      loops = [
        every(options.relayMs, 'relaying campaign status changes', async () => {
          const relayed = await relayCampaignStatus(
            pool,
            options.producer,
            options.topics.events,
            options.groupId,
          );
          metrics.relayed.inc(relayed);
        }),
        every(RETENTION_INTERVAL_MS, 'purging the webhook delivery log', async () => {
          const purged = await purgeWebhookLog(pool, options.retentionMs);
          if (purged > 0) logger.info({ purged }, 'old webhook deliveries purged');
        }),
      ];
      await consumer.start();
    },
    async stop() {
      await consumer?.stop();
      stopping.abort();
      await Promise.all(loops);
      await sender.stop();
    },
    isReady: () => consumer?.isReady() ?? false,
  };
}
