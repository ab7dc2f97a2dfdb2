import {
  type BatchConsumer,
  type BatchConsumerOptions,
  type BatchContext,
  type BusProducer,
  type ConsumedMessage,
  createBatchConsumer,
  RetryableError,
  type TopicNames,
} from '@outbound/bus';
import { dispatchOfRetry, encode, type TRetry, traceHeaders, ZRetry } from '@outbound/contracts';
import { addDelta, type CounterDelta, counterUpdateSql, inTransaction } from '@outbound/db';
import type { Logger } from '@outbound/observability';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { classify, UnprocessableRetryError } from './errors.ts';
import { retryWorkerMetrics } from './metrics.ts';

export const CONSUMER_NAME = 'retry-worker';

export interface RetryWorkerOptions {
  kafka: Kafka;
  /** Produces the dispatches (before commit); connected by `start`, not disconnected. */
  producer: BusProducer;
  topics: TopicNames;
  pool: pg.Pool;
  logger: Logger;
  registry: Registry;
  groupId: string;
  partitionsConsumedConcurrently?: number;
  /** A paused partition looks again after at most this long (default 60 s). */
  maxPauseMs?: number;
  consumer?: Pick<
    BatchConsumerOptions<TRetry>,
    'maxAttempts' | 'retryBackoffMs' | 'retryableBackoffMs' | 'maxWaitTimeInMs' | 'sessionTimeout'
  >;
  now?: () => Date;
}

export interface RetryWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
  isReady(): boolean;
}

/**
 * `RETRY_SCHEDULED → QUEUED` for the calls still on the retry's attempt, when the campaign runs; when it is PAUSED
 * (or back in DRAFT), `→ PENDING` with the attempt given back (attempts - 1, attempt id cleared): the scheduler
 * claims it again after resume, with the same attempt number and a fresh id; when it has ended (CANCELLED,
 * COMPLETED: a retry scheduled by an outcome that raced the cancel), `→ CANCELLED` with the attempt given back, as
 * the cancel would have done.
 * Rows are locked in id order; a call that moved on (cancelled, another attempt, already forwarded) does not match
 * and is skipped.
 */
const FORWARD = `
  WITH due AS (
    SELECT DISTINCT call_id, attempt_id FROM unnest($1::uuid[], $2::uuid[]) AS d(call_id, attempt_id)
  ), target AS (
    SELECT c.id, c.campaign_id,
           CASE p.status WHEN 'RUNNING' THEN 'QUEUED' WHEN 'PAUSED' THEN 'PENDING' WHEN 'DRAFT' THEN 'PENDING'
                ELSE 'CANCELLED' END AS next_status
    FROM calls c JOIN due ON c.id = due.call_id AND c.current_attempt_id = due.attempt_id
    JOIN campaigns p ON p.id = c.campaign_id
    WHERE c.status = 'RETRY_SCHEDULED'
    ORDER BY c.id
    FOR UPDATE OF c
  )
  UPDATE calls c SET
    status = t.next_status::"CallStatus",
    attempts = CASE t.next_status WHEN 'QUEUED' THEN c.attempts ELSE c.attempts - 1 END,
    current_attempt_id = CASE t.next_status WHEN 'QUEUED' THEN c.current_attempt_id ELSE NULL END,
    skip_reason = CASE t.next_status WHEN 'CANCELLED' THEN 'campaign ended' ELSE c.skip_reason END,
    finished_at = CASE t.next_status WHEN 'CANCELLED' THEN now() ELSE c.finished_at END,
    next_attempt_at = NULL,
    updated_at = now()
  FROM target t
  WHERE c.id = t.id
  RETURNING c.id, c.campaign_id, t.next_status`;

/** How long after it was written a retry found too early is looked at again, and how often. */
const EARLY_READ_WINDOW_MS = 10_000;
const EARLY_READ_RELOOK_MS = 100;

/**
 * Calls whose retry was read before the status worker's commit: still on the attempt before it (a retry is a new
 * attempt, with an id of its own that the commit writes), at the carrier, not yet RETRY_SCHEDULED.
 */
const EARLY_CALLS = `
  SELECT c.id FROM calls c
  JOIN unnest($1::uuid[], $2::int[]) AS d(call_id, attempt)
    ON c.id = d.call_id AND c.attempts = d.attempt - 1
  WHERE c.status IN ('DIALING', 'IN_PROGRESS')`;

const FORWARD_DELTA: Record<string, CounterDelta> = {
  QUEUED: { retryScheduled: -1, queued: 1 },
  PENDING: { retryScheduled: -1, pending: 1, attempts: -1 },
  CANCELLED: { retryScheduled: -1, cancelled: 1, attempts: -1 },
};

/**
 * The retry worker: consumes every `campaign.calls.retry.{n}`. Per partition, in order: the due retries are
 * forwarded in one transaction whose commit waits for Kafka to acknowledge their dispatches; at the first retry
 * that is not due, the partition pauses until it is (the runtime commits what precedes it and redelivers it).
 */
export function createRetryWorker(options: RetryWorkerOptions): RetryWorker {
  const { pool, producer, topics, registry } = options;
  const logger = options.logger.child({ component: 'retry-worker' });
  const now = options.now ?? (() => new Date());
  const metrics = retryWorkerMetrics(registry);

  async function forward(due: readonly ConsumedMessage<TRetry>[]): Promise<Set<string>> {
    let phase = 'connecting to PostgreSQL';
    let rows: Record<string, unknown>[];
    try {
      rows = await inTransaction(pool, async (client) => {
        phase = 'the retry transaction';
        const result = await client.query(FORWARD, [
          due.map((m) => m.message.callId),
          due.map((m) => m.message.attemptId),
        ]);
        const outcome = new Map(result.rows.map((r) => [r.id as string, r.next_status as string]));
        const deltas = new Map<string, CounterDelta>();
        for (const r of result.rows)
          deltas.set(
            r.campaign_id,
            addDelta(deltas.get(r.campaign_id) ?? {}, FORWARD_DELTA[r.next_status] ?? {}),
          );
        for (const campaignId of [...deltas.keys()].sort()) {
          const update = counterUpdateSql(campaignId, deltas.get(campaignId) ?? {});
          if (!update) continue;
          const updated = await client.query(update.text, update.values);
          if (updated.rowCount !== 1)
            throw new UnprocessableRetryError(`campaign ${campaignId} has no counters row`);
        }

        // One dispatch per forwarded call, even if the retry was in the batch twice.
        const queuedAt = now();
        const sent = new Set<string>();
        const dispatches = due.filter((m) => {
          const { callId } = m.message;
          if (outcome.get(callId) !== 'QUEUED' || sent.has(callId)) return false;
          sent.add(callId);
          return true;
        });
        if (dispatches.length > 0) {
          phase = 'producing dispatches';
          try {
            await producer.send(
              topics.dispatch,
              dispatches.map((m) => ({
                key: m.message.campaignId,
                value: encode(dispatchOfRetry(m.message, queuedAt)),
                headers: traceHeaders(m.trace),
              })),
            );
          } catch (err) {
            throw new RetryableError(`producing dispatches: ${(err as Error).message}`, { cause: err });
          }
        }
        phase = 'committing';
        return result.rows;
      });
    } catch (err) {
      throw classify(err, phase);
    }
    const to = { QUEUED: 0, PENDING: 0, CANCELLED: 0 } as Record<string, number>;
    for (const r of rows) to[r.next_status as string] = (to[r.next_status as string] ?? 0) + 1;
    for (const [status, n] of Object.entries(to)) if (n > 0) metrics.forwarded.inc({ to: status }, n);
    const skipped = due.length - rows.length;
    if (skipped > 0) metrics.skipped.inc(skipped);
    logger.debug({ due: due.length, ...to, skipped }, 'due retries forwarded');
    return new Set(rows.map((r) => r.id as string));
  }

  /**
   * The first of the skipped retries that was read too early: the status worker produces a retry before the
   * transaction that makes its call RETRY_SCHEDULED commits (docs/pipeline.md, guarantee 7), so a retry read in that
   * moment finds its call still DIALING or IN_PROGRESS on the attempt before. Dropping it would leave the call to the
   * scheduler's sweep, 30 s later; it is looked at again shortly instead, for at most EARLY_READ_WINDOW_MS after it
   * was written (a transaction that rolled back leaves it stale for good: its redelivered event writes another).
   */
  async function firstEarly(
    skipped: readonly ConsumedMessage<TRetry>[],
  ): Promise<ConsumedMessage<TRetry> | undefined> {
    const young = skipped.filter((m) => now().getTime() - Number(m.timestamp) < EARLY_READ_WINDOW_MS);
    if (young.length === 0) return undefined;
    const result = await pool.query<{ id: string }>(EARLY_CALLS, [
      young.map((m) => m.message.callId),
      young.map((m) => m.message.attempt),
    ]);
    const early = new Set(result.rows.map((r) => r.id));
    return young.find((m) => early.has(m.message.callId));
  }

  async function handleBatch(batch: BatchContext<TRetry>): Promise<void> {
    const at = now().getTime();
    const due: ConsumedMessage<TRetry>[] = [];
    for (const message of batch.messages) {
      const dueAt = Date.parse(message.message.dueAt);
      if (dueAt > at) {
        // Offsets are committed in order: everything after this one waits with it (the partition pauses).
        batch.pause(message, dueAt);
        metrics.paused.inc();
        break;
      }
      due.push(message);
    }
    if (due.length === 0) return;
    const forwarded = await forward(due);
    const early = await firstEarly(due.filter((m) => !forwarded.has(m.message.callId)));
    if (early) {
      // Everything before it is done; it and what follows come again (those forwarded meanwhile are skipped then).
      batch.pause(early, at + EARLY_READ_RELOOK_MS);
      metrics.earlyReads.inc();
    }
  }

  let consumer: BatchConsumer | null = null;
  return {
    async start() {
      if (consumer) throw new Error('the retry worker was already started');
      await producer.connect();
      consumer = createBatchConsumer({
        kafka: options.kafka,
        groupId: options.groupId,
        name: CONSUMER_NAME,
        topics: topics.retry,
        schema: ZRetry,
        // The consumer runtime names its own component.
        logger: options.logger,
        deadLetterTopic: topics.deadLetter,
        producer,
        registry,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
        ...(options.maxPauseMs !== undefined && { maxPauseMs: options.maxPauseMs }),
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
