import { setTimeout as sleep } from 'node:timers/promises';
import { type BatchConsumer, type BatchContext, type BusProducer, createBatchConsumer } from '@outbound/bus';
import { type TCallChange, type TCountersUpdate, type TLiveUpdate, ZLiveUpdate } from '@outbound/contracts';
import { COUNTERS_SELECT, countersSnapshotOf } from '@outbound/db';
import { type LivePayload, liveChannels, publishLive } from '@outbound/live';
import type { Logger } from '@outbound/observability';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import { Counter, type Registry } from 'prom-client';

export interface LiveBridgeOptions {
  kafka: Kafka;
  /** Dead letters of the consumer. */
  producer: BusProducer;
  topics: { live: string; deadLetter: string };
  groupId: string;
  pool: pg.Pool;
  redis: Redis;
  logger: Logger;
  registry: Registry;
  flushMs: number;
  sweepMs: number;
}

export interface LiveBridge {
  start(): Promise<void>;
  stop(): Promise<void>;
  isReady(): boolean;
}

/** Most call changes in one published message. */
const CALLS_PER_MESSAGE = 500;
/** How far back a regular sweep looks, and how far after a restart or a Redis reconnect. */
const SWEEP_WINDOW_MS = 15_000;
const WIDE_SWEEP_WINDOW_MS = 24 * 60 * 60_000;

const READ_RECENT_COUNTERS = `SELECT ${COUNTERS_SELECT} FROM campaign_counters
  WHERE updated_at > now() - make_interval(secs => $1::double precision / 1000)`;

function countersOf(r: Record<string, unknown>): TCountersUpdate {
  const { tenantId, campaignId, version, counters, updatedAt } = countersSnapshotOf(r);
  return { v: 1, kind: 'counters', tenantId, campaignId, version, counters, at: updatedAt.toISOString() };
}

/**
 * The live bridge. Two sources feed one outbox of pending changes: the live-update topic (what the status worker
 * committed, at once) and a sweep of the counters PostgreSQL changed recently (what other writers committed, and
 * whatever was lost while Redis or this process was down). Every `flushMs` the outbox goes out in one pipeline:
 * per campaign the newest counters only (to the campaign's and the tenant's channel) and its changed calls (the
 * newest state of each). A counters version is never published twice nor after a newer one, so a burst of
 * thousands of events per second becomes a few messages per campaign per second for each subscriber.
 */
export function createLiveBridge(options: LiveBridgeOptions): LiveBridge {
  const { pool, redis, registry } = options;
  const logger = options.logger.child({ component: 'live-bridge' });
  const received = new Counter({
    name: 'live_bridge_updates_received_total',
    help: 'Live updates taken in, by source and kind',
    labelNames: ['source', 'kind'],
    registers: [registry],
  });
  const published = new Counter({
    name: 'live_bridge_messages_published_total',
    help: 'Messages published to Redis, by channel kind',
    labelNames: ['channel'],
    registers: [registry],
  });
  const coalesced = new Counter({
    name: 'live_bridge_counters_coalesced_total',
    help: 'Counters snapshots superseded by a newer one before being published',
    registers: [registry],
  });
  const publishFailures = new Counter({
    name: 'live_bridge_publish_failures_total',
    help: 'Flushes Redis refused (kept for the next flush)',
    registers: [registry],
  });

  /** Per campaign: the newest counters not yet published. */
  const pendingCounters = new Map<string, TCountersUpdate>();
  /** Per campaign: its tenant and the newest state of each changed call. */
  const pendingCalls = new Map<string, { tenantId: string; calls: Map<string, TCallChange> }>();
  /** Per campaign: the version last published, and when (forgotten after a day without change). */
  const sent = new Map<string, { version: number; at: number }>();

  function offerCounters(update: TCountersUpdate): void {
    const newest =
      pendingCounters.get(update.campaignId)?.version ?? sent.get(update.campaignId)?.version ?? -1;
    if (update.version <= newest) {
      coalesced.inc();
      return;
    }
    if (pendingCounters.has(update.campaignId)) coalesced.inc();
    pendingCounters.set(update.campaignId, update);
  }

  function offer(update: TLiveUpdate, source: 'kafka' | 'sweep'): void {
    received.inc({ source, kind: update.kind });
    if (update.kind === 'counters') {
      offerCounters(update);
      return;
    }
    const entry = pendingCalls.get(update.campaignId) ?? { tenantId: update.tenantId, calls: new Map() };
    for (const call of update.calls) {
      const known = entry.calls.get(call.callId);
      if (!known || known.updatedAt <= call.updatedAt) entry.calls.set(call.callId, call);
    }
    pendingCalls.set(update.campaignId, entry);
  }

  async function flush(): Promise<void> {
    if (pendingCounters.size === 0 && pendingCalls.size === 0) return;
    const counters = [...pendingCounters.values()];
    const calls = [...pendingCalls];
    pendingCounters.clear();
    pendingCalls.clear();
    const messages: { channel: string; payload: LivePayload }[] = [];
    for (const update of counters) {
      messages.push({ channel: liveChannels.campaignCounters(update.campaignId), payload: update });
      messages.push({ channel: liveChannels.tenantCounters(update.tenantId), payload: update });
    }
    for (const [campaignId, { tenantId, calls: changed }] of calls) {
      const list = [...changed.values()];
      for (let i = 0; i < list.length; i += CALLS_PER_MESSAGE)
        messages.push({
          channel: liveChannels.campaignCalls(campaignId),
          payload: { v: 1, kind: 'calls', tenantId, campaignId, calls: list.slice(i, i + CALLS_PER_MESSAGE) },
        });
    }
    try {
      await publishLive(redis, messages);
    } catch (err) {
      publishFailures.inc();
      logger.warn({ err, messages: messages.length }, 'live updates not published; kept for the next flush');
      for (const update of counters) offerCounters(update);
      for (const [campaignId, entry] of calls)
        offer(
          { v: 1, kind: 'calls', tenantId: entry.tenantId, campaignId, calls: [...entry.calls.values()] },
          'kafka',
        );
      return;
    }
    const now = Date.now();
    for (const update of counters) sent.set(update.campaignId, { version: update.version, at: now });
    published.inc({ channel: 'counters' }, counters.length * 2);
    published.inc({ channel: 'calls' }, messages.length - counters.length * 2);
  }

  async function sweep(windowMs: number): Promise<void> {
    const result = await pool.query(READ_RECENT_COUNTERS, [windowMs]);
    for (const row of result.rows) offer(countersOf(row), 'sweep');
    const forgetBefore = Date.now() - WIDE_SWEEP_WINDOW_MS;
    for (const [campaignId, entry] of sent) if (entry.at < forgetBefore) sent.delete(campaignId);
  }

  const stopping = new AbortController();
  let loops: Promise<void>[] = [];
  let wideSweepDue = true;

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

  // After Redis comes back, whatever was published while it was away is lost: look further back once.
  const onRedisReady = () => {
    wideSweepDue = true;
  };
  redis.on('ready', onRedisReady);

  let consumer: BatchConsumer | null = null;
  return {
    async start() {
      consumer = createBatchConsumer<TLiveUpdate>({
        kafka: options.kafka,
        groupId: options.groupId,
        name: 'live-bridge',
        topics: [options.topics.live],
        schema: ZLiveUpdate,
        logger: options.logger,
        deadLetterTopic: options.topics.deadLetter,
        producer: options.producer,
        registry,
        // Live updates are worth something only now: a new group starts at the end of the topic.
        fromBeginning: false,
        // No fetch linger: the flush window already coalesces, and a wait here would add to the live latency.
        fetchLinger: false,
        handleBatch: async (batch: BatchContext<TLiveUpdate>) => {
          for (const { message } of batch.messages) offer(message, 'kafka');
        },
      });
      loops = [
        every(options.flushMs, 'flushing live updates', flush),
        every(options.sweepMs, 'sweeping recent counters', async () => {
          const wide = wideSweepDue;
          wideSweepDue = false;
          try {
            await sweep(wide ? WIDE_SWEEP_WINDOW_MS : SWEEP_WINDOW_MS);
          } catch (err) {
            wideSweepDue ||= wide;
            throw err;
          }
        }),
      ];
      await consumer.start();
    },
    async stop() {
      await consumer?.stop();
      stopping.abort();
      await Promise.all(loops);
      redis.off('ready', onRedisReady);
      await flush().catch((err: unknown) => logger.warn({ err }, 'last live updates not published'));
    },
    isReady: () => consumer?.isReady() ?? false,
  };
}
