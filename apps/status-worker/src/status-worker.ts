import { randomUUID } from 'node:crypto';
import {
  type BatchConsumer,
  type BatchConsumerOptions,
  type BatchContext,
  type BusProducer,
  type ConsumedMessage,
  createBatchConsumer,
  RetryableError,
  retryTopicFor,
  type TopicMessages,
  type TopicNames,
} from '@outbound/bus';
import {
  encode,
  type TCallChange,
  type TLiveUpdate,
  type TRetry,
  type TStatusEvent,
  traceHeaders,
  traceIdOf,
  ZStatusEvent,
} from '@outbound/contracts';
import { campaignSlotsKey, type LeaseSemaphore, type ThroughputSeries } from '@outbound/coordination';
import {
  COUNTERS_SELECT,
  type CountersSnapshot,
  countersSnapshotOf,
  counterUpdateSql,
  inTransaction,
} from '@outbound/db';
import type { CallStatusName } from '@outbound/domain';
import { type CqlClient, createHistoryWriter } from '@outbound/history';
import type { Logger } from '@outbound/observability';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { classify, UnprocessableEventError } from './errors.ts';
import { statusWorkerMetrics } from './metrics.ts';
import { type BatchPlan, type LockedCall, planBatch } from './plan.ts';

export const CONSUMER_NAME = 'status-worker';

export interface StatusWorkerOptions {
  kafka: Kafka;
  /** Produces retries (before commit) and live updates (after); connected by `start`, not disconnected. */
  producer: BusProducer;
  topics: TopicNames;
  pool: pg.Pool;
  cql: CqlClient;
  semaphore: LeaseSemaphore;
  /** The dashboard's live series of attempt endings, recorded after each commit (best effort). */
  throughput: ThroughputSeries;
  logger: Logger;
  registry: Registry;
  /** Default `<KAFKA_TOPIC_PREFIX>status-worker` as given by the caller. */
  groupId: string;
  partitionsConsumedConcurrently?: number;
  /** Consumer runtime tuning (tests shorten the retries before dead-lettering). */
  consumer?: Pick<
    BatchConsumerOptions<TStatusEvent>,
    'maxAttempts' | 'retryBackoffMs' | 'retryableBackoffMs' | 'maxWaitTimeInMs' | 'sessionTimeout'
  >;
  now?: () => Date;
  /** The jitter source of the retry policy. */
  random?: () => number;
  /**
   * Called right after a batch's transaction committed, before its slots are released: fault tests make the
   * process SIGKILL itself here (`STATUS_WORKER_TEST_CRASH_AFTER_COMMIT`) to open that crash window on purpose.
   */
  afterCommit?: () => void;
}

export interface StatusWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  isReady(): boolean;
}

interface Committed {
  plan: BatchPlan;
  counters: CountersSnapshot[];
  updatedAt: Map<string, Date>;
  events: readonly ConsumedMessage<TStatusEvent>[];
}

/**
 * The campaigns of the batch's final events, FOR SHARE, before any call is locked (cancel locks its campaign, then
 * calls): whether an outcome is retried depends on the campaign's status, so a cancel either commits before and is
 * seen (no retry: the call ends CANCELLED) or waits for this batch and then finds, and ends, the retry it made.
 */
const LOCK_CAMPAIGNS = 'SELECT id FROM campaigns WHERE id = ANY($1::uuid[]) ORDER BY id FOR SHARE';

const LOCK_CALLS = `
  SELECT c.id, c.campaign_id, c.tenant_id, c.status::text AS status, c.attempts, c.current_attempt_id,
         c.phone_number, c.timezone, c.last_outcome::text AS last_outcome, c.last_error, c.skip_reason,
         c.provider_call_id, c.next_attempt_at, p.status::text AS campaign_status, p.caller_id,
         p.retry_max_attempts, p.retry_base_delay_ms, p.retry_max_delay_ms, p.retry_jitter,
         p.retry_on::text[] AS retry_on, p.retry_outcome_delays
  FROM calls c JOIN campaigns p ON p.id = c.campaign_id
  WHERE c.id = ANY($1::uuid[])
  ORDER BY c.id
  FOR UPDATE OF c`;

const UPDATE_CALLS = `
  UPDATE calls c SET
    status = u.status::"CallStatus",
    attempts = u.attempts,
    current_attempt_id = u.attempt_id,
    next_attempt_at = u.next_attempt_at,
    last_outcome = u.last_outcome::"CallOutcome",
    last_error = u.last_error,
    skip_reason = u.skip_reason,
    provider_call_id = u.provider_call_id,
    finished_at = CASE WHEN u.finished THEN now() ELSE c.finished_at END,
    updated_at = now()
  FROM unnest($1::uuid[], $2::text[], $3::int[], $4::uuid[], $5::timestamptz[], $6::text[], $7::text[], $8::text[],
              $9::text[], $10::boolean[])
       AS u(id, status, attempts, attempt_id, next_attempt_at, last_outcome, last_error, skip_reason,
            provider_call_id, finished)
  WHERE c.id = u.id
  RETURNING c.id, c.updated_at`;

const READ_COUNTERS = `SELECT ${COUNTERS_SELECT} FROM campaign_counters WHERE campaign_id = ANY($1::uuid[])`;

function lockedCall(r: Record<string, unknown>): LockedCall {
  return {
    id: r.id as string,
    campaignId: r.campaign_id as string,
    tenantId: r.tenant_id as string,
    status: r.status as CallStatusName,
    attempts: r.attempts as number,
    currentAttemptId: r.current_attempt_id as string | null,
    phoneNumber: r.phone_number as string,
    timezone: r.timezone as string,
    lastOutcome: r.last_outcome as LockedCall['lastOutcome'],
    lastError: r.last_error as string | null,
    skipReason: r.skip_reason as string | null,
    providerCallId: r.provider_call_id as string | null,
    nextAttemptAt: r.next_attempt_at as Date | null,
    callerId: r.caller_id as string,
    campaignStatus: r.campaign_status as LockedCall['campaignStatus'],
    policy: {
      maxAttempts: r.retry_max_attempts as number,
      baseDelayMs: r.retry_base_delay_ms as number,
      maxDelayMs: r.retry_max_delay_ms as number,
      jitter: r.retry_jitter as number,
      retryOn: r.retry_on as LockedCall['policy']['retryOn'],
      // Validated when the campaign was saved (ZRetryPolicy), as the other columns.
      outcomeDelays: r.retry_outcome_delays as LockedCall['policy']['outcomeDelays'],
    },
  };
}

/** An event whose call does not exist, or exists under another campaign or tenant, can never apply. */
function checkReferences(
  events: readonly ConsumedMessage<TStatusEvent>[],
  calls: ReadonlyMap<string, { campaignId: string; tenantId: string }>,
): void {
  const problems: string[] = [];
  for (const { message: e } of events) {
    const call = calls.get(e.callId);
    if (!call) problems.push(`event ${e.eventId}: call ${e.callId} does not exist`);
    else if (call.campaignId !== e.campaignId || call.tenantId !== e.tenantId)
      problems.push(
        `event ${e.eventId}: call ${e.callId} belongs to campaign ${call.campaignId} (tenant ${call.tenantId}), not campaign ${e.campaignId} (tenant ${e.tenantId})`,
      );
  }
  if (problems.length > 0) throw new UnprocessableEventError(problems.join('; '));
}

/**
 * The status worker: per batch of `campaign.calls.status`, (1) one PostgreSQL transaction: ledger, calls locked in
 * id order, the state machine, the Cassandra history of what it applied for the first time, batched call updates,
 * counter deltas per campaign, and the retry messages produced and acknowledged before COMMIT, (2) after commit,
 * the slots of every attempt a final event names released, attempt endings added to the throughput series and
 * live updates published (all best effort).
 */
export function createStatusWorker(options: StatusWorkerOptions): StatusWorker {
  const { pool, producer, topics, semaphore, throughput, registry } = options;
  const logger = options.logger.child({ component: 'status-worker' });
  const now = options.now ?? (() => new Date());
  const metrics = statusWorkerMetrics(registry);
  const history = createHistoryWriter(options.cql);

  function retryMessages(plan: BatchPlan, events: readonly ConsumedMessage<TStatusEvent>[]): TopicMessages[] {
    const byTopic = new Map<string, TopicMessages>();
    const queuedAt = now().toISOString();
    for (const retry of plan.retries) {
      const message: TRetry = {
        v: 1,
        kind: 'retry',
        tenantId: retry.call.tenantId,
        campaignId: retry.call.campaignId,
        callId: retry.call.id,
        attemptId: retry.attemptId,
        attempt: retry.attempt,
        phoneNumber: retry.call.phoneNumber,
        callerId: retry.call.callerId,
        timezone: retry.call.timezone,
        // Retries are not scheduler claims: the attempt id is their no-double-dial guard, not the leader's token.
        fencingToken: 0,
        queuedAt,
        dueAt: retry.dueAt.toISOString(),
      };
      const topic = retryTopicFor(topics, retry.attempt - 1);
      const entry = byTopic.get(topic) ?? { topic, messages: [] };
      entry.messages.push({
        key: retry.call.campaignId,
        value: encode(message),
        headers: traceHeaders((events[retry.traceIndex] as ConsumedMessage<TStatusEvent>).traceparent),
      });
      byTopic.set(topic, entry);
    }
    return [...byTopic.values()];
  }

  /** The transaction; resolves once committed, with what the after-commit steps need. */
  async function transact(events: readonly ConsumedMessage<TStatusEvent>[]): Promise<Committed | null> {
    const started = performance.now();
    let phase = 'connecting to PostgreSQL';
    let committed: Committed | null;
    try {
      committed = await inTransaction(pool, async (client): Promise<Committed | null> => {
        phase = 'the status transaction';
        // The ledger: one id once, whatever the batch and the redeliveries hold.
        const seen = new Set<string>();
        const unique = events.filter((e) => !seen.has(e.message.eventId) && seen.add(e.message.eventId));
        const inserted = await client.query<{ event_id: string }>(
          `INSERT INTO processed_events (event_id, consumer) SELECT e, $2 FROM unnest($1::text[]) AS e
         ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
          [unique.map((e) => e.message.eventId), CONSUMER_NAME],
        );
        const fresh = new Set(inserted.rows.map((r) => r.event_id));
        const duplicates = events.length - fresh.size;
        if (duplicates > 0) metrics.duplicates.inc(duplicates);
        const toApply = unique
          .map((e) => ({ message: e.message, index: events.indexOf(e) }))
          .filter((e) => fresh.has(e.message.eventId));
        if (toApply.length === 0) return null;

        const ending = toApply.filter((e) => e.message.event === 'completed');
        if (ending.length > 0)
          await client.query(LOCK_CAMPAIGNS, [[...new Set(ending.map((e) => e.message.campaignId))]]);
        const ids = [...new Set(toApply.map((e) => e.message.callId))];
        const locked = new Map(
          (await client.query(LOCK_CALLS, [ids])).rows.map((r) => [r.id as string, lockedCall(r)]),
        );
        checkReferences(
          toApply.map((e) => events[e.index] as ConsumedMessage<TStatusEvent>),
          locked,
        );

        const plan = planBatch(toApply, locked, {
          now: now(),
          newAttemptId: randomUUID,
          ...(options.random && { random: options.random }),
        });
        for (const { reason } of plan.ignored) metrics.ignored.inc({ reason });

        // The history, while the calls are locked, of events new to the ledger only (a replay or a redelivery is
        // never written again): what the state machine applied, progress of attempts the call really had, and how
        // attempts ended as decided here. An ending it did not apply, or an attempt the call never had, is not
        // written, as PostgreSQL ignores it. A failure rolls everything back (the ledger too): the redelivery
        // writes it.
        phase = 'writing the call history';
        try {
          const ofEarlierAttempts =
            plan.unverified.length > 0 ? await history.ofKnownAttempts(plan.unverified) : [];
          await Promise.all([
            history.write(
              [...plan.recorded, ...ofEarlierAttempts].map((message) => ({ message })),
              (callId) => locked.get(callId)?.phoneNumber,
            ),
            history.writeEndings(plan.ended.map((a) => a.event)),
          ]);
        } catch (err) {
          throw new RetryableError(`writing the call history: ${(err as Error).message}`, { cause: err });
        }
        phase = 'the status transaction';

        const updatedAt = new Map<string, Date>();
        if (plan.updates.length > 0) {
          const u = plan.updates.map((x) => x.call);
          const result = await client.query(UPDATE_CALLS, [
            u.map((c) => c.id),
            u.map((c) => c.status),
            u.map((c) => c.attempts),
            u.map((c) => c.currentAttemptId),
            u.map((c) => c.nextAttemptAt),
            u.map((c) => c.lastOutcome),
            u.map((c) => c.lastError),
            u.map((c) => c.skipReason),
            u.map((c) => c.providerCallId),
            plan.updates.map((x) => x.finished),
          ]);
          for (const r of result.rows) updatedAt.set(r.id as string, r.updated_at as Date);
        }

        // Counters per campaign, in id order (two transactions never wait on each other's counters in a cycle).
        const campaigns = [...plan.deltas.keys()].sort();
        for (const campaignId of campaigns) {
          const update = counterUpdateSql(campaignId, plan.deltas.get(campaignId) ?? {});
          if (!update) continue;
          const result = await client.query(update.text, update.values);
          if (result.rowCount !== 1)
            throw new UnprocessableEventError(`campaign ${campaignId} has no counters row`);
        }
        const counters =
          campaigns.length === 0
            ? []
            : (await client.query(READ_COUNTERS, [campaigns])).rows.map(countersSnapshotOf);

        // Retries are acknowledged by Kafka before the transaction commits: a committed RETRY_SCHEDULED call always
        // has its message. (A message whose transaction then fails is harmless: the retry worker's conditional
        // update finds no RETRY_SCHEDULED row with that attempt id.)
        const retries = retryMessages(plan, events);
        if (retries.length > 0) {
          phase = 'producing retries';
          try {
            await producer.sendMany(retries);
          } catch (err) {
            throw new RetryableError(`producing retries: ${(err as Error).message}`, { cause: err });
          }
        }
        phase = 'committing';
        return { plan, counters, updatedAt, events };
      });
    } catch (err) {
      throw classify(err, phase);
    }
    if (!committed) return null;
    metrics.transactionDuration.observe((performance.now() - started) / 1000);
    metrics.retriesScheduled.inc(committed.plan.retries.length);
    for (const update of committed.plan.updates) {
      if (update.transitioned) metrics.applied.inc({ to: update.call.status });
    }
    return committed;
  }

  /**
   * After the commit: the slot of every attempt a final event of the batch names is given back, whether this batch
   * applied it or found it in the ledger (a redelivery after a crash between the commit and this release) or
   * ignored it as stale or late: a final event means the call is over at the carrier. Releasing is idempotent
   * (lease id = attempt id), and an attempt id is never live again once it ended.
   */
  async function releaseSlots(events: readonly ConsumedMessage<TStatusEvent>[]): Promise<void> {
    const finals = new Map<string, { campaignId: string; attemptId: string }>();
    for (const { message: e } of events)
      if (e.event === 'completed')
        finals.set(e.attemptId, { campaignId: e.campaignId, attemptId: e.attemptId });
    const attempts = [...finals.values()];
    const results = await Promise.allSettled(
      attempts.map((a) => semaphore.release(campaignSlotsKey(a.campaignId), a.attemptId)),
    );
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        metrics.slotReleaseFailures.inc();
        logger.warn(
          { err: result.reason, ...attempts[i] },
          'could not release a concurrency slot; the lease reconciliation of the call-workers will',
        );
      }
    });
  }

  async function recordThroughput(committed: Committed): Promise<void> {
    const endings = committed.plan.ended.flatMap(({ campaignId, event }) =>
      event.outcome ? [{ campaignId, outcome: event.outcome, endedAt: new Date(event.occurredAt) }] : [],
    );
    try {
      await throughput.record(endings);
    } catch (err) {
      metrics.throughputFailures.inc();
      logger.warn(
        { err, endings: endings.length, campaigns: [...new Set(endings.map((e) => e.campaignId))] },
        'could not record attempt endings in the throughput series; the chart misses them (counters are exact)',
      );
    }
  }

  async function publishLive(committed: Committed): Promise<void> {
    const at = now().toISOString();
    const messages: { key: string; value: Buffer }[] = [];
    for (const row of committed.counters) {
      const { campaignId, tenantId, version, counters } = row;
      const update: TLiveUpdate = { v: 1, kind: 'counters', tenantId, campaignId, version, counters, at };
      messages.push({ key: campaignId, value: encode(update) });
      const calls: TCallChange[] = committed.plan.updates
        .filter((u) => u.transitioned && u.call.campaignId === campaignId)
        .map((u) => ({
          callId: u.call.id,
          status: u.call.status,
          attempts: u.call.attempts,
          lastOutcome: u.call.lastOutcome,
          updatedAt: (committed.updatedAt.get(u.call.id) ?? new Date()).toISOString(),
        }));
      for (let i = 0; i < calls.length; i += 10_000) {
        const changes: TLiveUpdate = {
          v: 1,
          kind: 'calls',
          tenantId,
          campaignId,
          calls: calls.slice(i, i + 10_000),
        };
        messages.push({ key: campaignId, value: encode(changes) });
      }
    }
    if (messages.length === 0) return;
    try {
      await producer.send(topics.live, messages);
    } catch (err) {
      metrics.liveUpdateFailures.inc();
      logger.warn(
        { err, campaigns: committed.counters.map((c) => c.campaignId) },
        'could not publish live updates; the next change supersedes them',
      );
    }
  }

  async function handleBatch(batch: BatchContext<TStatusEvent>): Promise<void> {
    const events = batch.messages;
    const committed = await transact(events);
    if (committed) options.afterCommit?.();
    await releaseSlots(events);
    if (!committed) return;
    await recordThroughput(committed);
    await publishLive(committed);
    logger.debug(
      {
        partition: batch.partition,
        events: events.length,
        transitions: committed.plan.updates.filter((u) => u.transitioned).length,
        retries: committed.plan.retries.length,
        ignored: committed.plan.ignored.length,
        traceId: traceIdOf(events[0]?.traceparent),
      },
      'status batch applied',
    );
  }

  let consumer: BatchConsumer | null = null;
  return {
    async start() {
      if (consumer) throw new Error('the status worker was already started');
      await producer.connect();
      consumer = createBatchConsumer({
        kafka: options.kafka,
        groupId: options.groupId,
        name: CONSUMER_NAME,
        topics: [topics.status],
        schema: ZStatusEvent,
        // The consumer runtime names its own component.
        logger: options.logger,
        deadLetterTopic: topics.deadLetter,
        producer,
        registry,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
        handleBatch,
        ...options.consumer,
      });
      await consumer.start();
    },
    async stop() {
      await consumer?.stop();
    },
    isReady: () => consumer?.isReady() ?? false,
  };
}
