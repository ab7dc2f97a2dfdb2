import { type BatchContext, type BusProducer, createBatchConsumer, topicNames } from '@outbound/bus';
import type { KafkaConfig } from '@outbound/config';
import { type TDispatch, ZDispatch } from '@outbound/contracts';
import { campaignSlotsKey, LeaseSemaphore, SlidingWindowLimiter } from '@outbound/coordination';
import type { Logger } from '@outbound/observability';
import type { TelephonyProvider } from '@outbound/telephony';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { type CallRow, loadCalls, type Settlement, settleCalls } from './calls.ts';
import { CampaignCache } from './campaigns.ts';
import { dependency } from './dependency.ts';
import { createDialer, type DialJob, idsOf } from './dial.ts';
import { DialGate } from './dial-gate.ts';
import { verdictFor } from './eligibility.ts';
import { byCampaign, leaseReconciliation } from './lease-reconciliation.ts';
import { Limiter } from './limiter.ts';
import { callWorkerMetrics } from './metrics.ts';
import { pause, type WaitContext } from './waits.ts';

/**
 * When a dispatch read before its claim committed looks at its call again: soon at first (the claim usually commits
 * a few milliseconds after Kafka acknowledged its messages), then less often, about 1 s in all.
 */
const EARLY_READ_DELAYS_MS = [5, 10, 20, 40, 80, 160, 320, 400];

export interface CallWorkerSettings extends Pick<KafkaConfig, 'KAFKA_TOPIC_PREFIX' | 'KAFKA_RETRY_LEVELS'> {
  CALL_WORKER_CONCURRENCY: number;
  LEASE_TTL_MS: number;
  LEASE_RECONCILE_INTERVAL_MS: number;
  PROVIDER_CPS: number;
  PACING_BURST_FRACTION: number;
  /** Bound on each provider request (the provider is built with it too). */
  TELEPHONY_TIMEOUT_MS: number;
  /** The carrier ingress's public base: every call's status callback and call flow URLs are on it. */
  WEBHOOK_PUBLIC_URL: string;
  CAMPAIGN_CACHE_MS: number;
  DIAL_GATE_WINDOW_MS: number;
  /** Longest wait for a pacing place once DIALING (see dial.ts). */
  PACE_WAIT_MAX_MS: number;
}

export interface CallWorkerOptions {
  config: CallWorkerSettings;
  pool: pg.Pool;
  redis: Redis;
  kafka: Kafka;
  /** Status events and dead letters; the caller connects and disconnects it. */
  producer: BusProducer;
  provider: TelephonyProvider;
  logger: Logger;
  registry: Registry;
  /** Default `${KAFKA_TOPIC_PREFIX}call-worker`. */
  groupId?: string;
  /** Injected by tests; the wall clock otherwise (windows are judged by it). */
  now?: () => Date;
  /** Batches handled at once (different partitions); default 4. Dials share CALL_WORKER_CONCURRENCY across them. */
  partitionsConsumedConcurrently?: number;
}

export interface CallWorker {
  start(): Promise<void>;
  /** Stops consuming: waits that have not dialled yet end (their messages are redelivered), dials in flight finish. */
  stop(): Promise<void>;
  isReady(): boolean;
}

/**
 * The call-worker: consumes `campaign.calls.dispatch` and turns each message into at most one call at the carrier.
 * Per batch: the campaigns (cached ≤ CAMPAIGN_CACHE_MS) and the calls with their do-not-call status are read in
 * one query each; calls that must not be dialled now are settled in one transaction; the others are dialled
 * concurrently (see `createDialer`). The batch's offsets are committed by the runtime once every settle, originate
 * and status event is done.
 */
export function createCallWorker(options: CallWorkerOptions): CallWorker {
  const { config, pool, logger } = options;
  const topics = topicNames(config);
  const now = options.now ?? (() => new Date());
  const metrics = callWorkerMetrics(options.registry);
  const campaigns = new CampaignCache(pool, config.CAMPAIGN_CACHE_MS);
  const limiter = new Limiter(config.CALL_WORKER_CONCURRENCY);
  const gate = new DialGate(pool, { windowMs: config.DIAL_GATE_WINDOW_MS, logger });
  const semaphore = new LeaseSemaphore(options.redis);
  const leases = leaseReconciliation({
    pool,
    redis: options.redis,
    semaphore,
    ttlMs: config.LEASE_TTL_MS,
    intervalMs: config.LEASE_RECONCILE_INTERVAL_MS,
    logger,
    onPass: (report) => metrics.leasesReleased.inc({ by: 'reconciliation' }, report.released),
  });

  /**
   * Gives back the leases of dispatches that will not be dialled: an earlier delivery of the message may have taken
   * the slot and died before its QUEUED → DIALING (the call was cancelled, settled or dialled by another attempt
   * since). Releasing a lease nobody holds changes nothing; a call live on the message's attempt keeps its lease.
   */
  async function releaseUndialled(
    attempts: readonly { campaignId: string; attemptId: string }[],
  ): Promise<void> {
    for (const [campaignId, attemptIds] of byCampaign(attempts)) {
      try {
        const released = await semaphore.releaseMany(campaignSlotsKey(campaignId), attemptIds);
        if (released > 0) metrics.leasesReleased.inc({ by: 'dispatch' }, released);
      } catch (err) {
        logger.warn(
          { err, campaignId },
          'could not release the leases of undialled attempts; reconciliation will',
        );
      }
    }
  }
  const dialer = createDialer({
    pool,
    semaphore,
    leasesReady: () => leases.ready(),
    pacing: new SlidingWindowLimiter(options.redis),
    provider: options.provider,
    producer: options.producer,
    campaigns,
    gate,
    metrics,
    logger,
    statusTopic: topics.status,
    webhookPublicUrl: config.WEBHOOK_PUBLIC_URL,
    leaseTtlMs: config.LEASE_TTL_MS,
    providerCps: config.PROVIDER_CPS,
    paceOptions: { burstFraction: config.PACING_BURST_FRACTION },
    originateTimeoutMs: config.TELEPHONY_TIMEOUT_MS,
    paceWaitMaxMs: config.PACE_WAIT_MAX_MS,
    now,
  });

  async function handleBatch(batch: BatchContext<TDispatch>): Promise<void> {
    // A message delivered twice in one batch is handled once.
    const seen = new Set<string>();
    const messages = batch.messages.filter(({ message }) => {
      if (seen.has(message.attemptId)) {
        metrics.ignored.inc({ reason: 'duplicate' });
        return false;
      }
      seen.add(message.attemptId);
      return true;
    });

    // 1. The campaigns, and the calls with their do-not-call status: one query each.
    const [campaignsById, calls] = await Promise.all([
      dependency('postgres', () => campaigns.load(messages.map((m) => m.message.campaignId))),
      dependency('postgres', () =>
        loadCalls(
          pool,
          messages.map((m) => m.message.callId),
        ),
      ),
    ]);

    // 1b. Dispatch messages are produced before the claim that makes them valid commits (docs/pipeline.md,
    // guarantee 7), so a message can be read a moment too early: its call is still PENDING, or RETRY_SCHEDULED
    // with this attempt id. Ignoring it would strand the call QUEUED, holding a share of its campaign's capacity,
    // until the scheduler's 30 s sweep re-sends it; look again for a moment instead (bounded: a claim that rolled
    // back leaves the message stale for good).
    const claimInFlight = (message: TDispatch) => {
      const call = calls.get(message.callId);
      return (
        call !== undefined &&
        (call.status === 'PENDING' ||
          (call.status === 'RETRY_SCHEDULED' && call.currentAttemptId === message.attemptId))
      );
    };
    for (const delay of EARLY_READ_DELAYS_MS) {
      const early = messages.filter((m) => claimInFlight(m.message)).map((m) => m.message.callId);
      if (early.length === 0) break;
      await pause(delay, {
        signal: batch.signal,
        heartbeat: () => batch.heartbeat(),
        isStale: () => batch.isStale(),
      });
      for (const [id, call] of await dependency('postgres', () => loadCalls(pool, early)))
        calls.set(id, call);
    }

    // 2. Decide: dial, settle, or ignore (stale or duplicate: the call is no longer queued on this attempt).
    const at = now();
    const settlements: Settlement[] = [];
    const jobs: DialJob[] = [];
    const undialled: { campaignId: string; attemptId: string }[] = [];
    for (const { message, trace } of messages) {
      const call = calls.get(message.callId);
      const campaign = campaignsById.get(message.campaignId);
      if (
        !call ||
        !campaign ||
        call.campaignId !== message.campaignId ||
        call.status !== 'QUEUED' ||
        call.currentAttemptId !== message.attemptId
      ) {
        metrics.ignored.inc({ reason: call && campaign ? 'stale' : 'unknown' });
        logger.debug({ ...idsOf(message), status: call?.status }, 'dispatch ignored: the call moved on');
        if (!liveOn(call, message.attemptId)) undialled.push(message);
        continue;
      }
      const verdict = verdictFor(campaign, { timezone: message.timezone, doNotCall: call.doNotCall }, at);
      if (verdict.action === 'settle') {
        settlements.push({
          callId: call.id,
          attemptId: message.attemptId,
          to: verdict.to,
          reason: verdict.reason,
        });
      } else {
        jobs.push({
          dispatch: message,
          trace,
          phoneNumber: call.phoneNumber,
          tenantId: call.tenantId,
          campaign,
        });
      }
    }

    if (settlements.length > 0) {
      const settled = await dependency('postgres', () => settleCalls(pool, settlements));
      for (const s of settled) metrics.settled.inc({ reason: s.reason });
      undialled.push(...settled);
      const ignored = settlements.length - settled.length;
      if (ignored > 0) metrics.ignored.inc({ reason: 'stale' }, ignored);
      if (settled.length > 0)
        logger.debug({ settled: settled.length }, 'queued calls settled without dialling');
    }
    if (undialled.length > 0) await releaseUndialled(undialled);
    if (jobs.length === 0) return;

    // 3. Dial, CALL_WORKER_CONCURRENCY at once across batches. One failed dial stops the others' waits: the batch
    // is retried as a whole (dialled calls are then found DIALING and skipped).
    const failed = new AbortController();
    const context: WaitContext = {
      signal: AbortSignal.any([batch.signal, failed.signal]),
      heartbeat: () => batch.heartbeat(),
      isStale: () => batch.isStale(),
    };
    const results = await Promise.allSettled(
      jobs.map(async (job) => {
        let release: () => void;
        if (limiter.active >= config.CALL_WORKER_CONCURRENCY) {
          metrics.waits.inc({ kind: 'worker_concurrency' });
          const startedAt = performance.now();
          release = await limiter.acquire(context.signal);
          metrics.waitSeconds.observe({ kind: 'worker_concurrency' }, (performance.now() - startedAt) / 1000);
        } else {
          release = await limiter.acquire(context.signal);
        }
        metrics.inFlight.inc();
        try {
          return await dialer.dial(job, context);
        } catch (err) {
          if (!failed.signal.aborted && !batch.signal.aborted) failed.abort(err);
          throw err;
        } finally {
          metrics.inFlight.dec();
          release();
        }
      }),
    );
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length > 0) {
      // The first failure (not the aborts it caused in the other dials), or the stop.
      const cause: unknown = failed.signal.aborted ? failed.signal.reason : errors[0];
      if (!batch.signal.aborted)
        logger.warn(
          { err: cause, failed: errors.length, of: jobs.length },
          'dials failed; the batch will be retried',
        );
      throw cause;
    }
  }

  const consumer = createBatchConsumer<TDispatch>({
    kafka: options.kafka,
    groupId: options.groupId ?? `${config.KAFKA_TOPIC_PREFIX}call-worker`,
    name: 'call-worker',
    topics: [topics.dispatch],
    schema: ZDispatch,
    logger,
    deadLetterTopic: topics.deadLetter,
    producer: options.producer,
    registry: options.registry,
    handleBatch,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 4,
  });

  return {
    start: async () => {
      await consumer.start();
      leases.start();
    },
    stop: async () => {
      await consumer.stop();
      await Promise.all([gate.close(), leases.stop()]);
    },
    isReady: () => consumer.isReady(),
  };
}

/** The call is at the carrier (or being dialled) on this attempt: the lease with its id is that call's. */
function liveOn(call: CallRow | undefined, attemptId: string): boolean {
  return (
    call !== undefined &&
    call.currentAttemptId === attemptId &&
    (call.status === 'DIALING' || call.status === 'IN_PROGRESS')
  );
}
