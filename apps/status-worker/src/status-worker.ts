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
  type TStatusTopicMessage,
  type TSuppressNumber,
  traceHeaders,
  traceIdOf,
  ZStatusTopicMessage,
} from '@outbound/contracts';
import { campaignSlotsKey, type LeaseSemaphore, type ThroughputSeries } from '@outbound/coordination';
import {
  COUNTERS_SELECT,
  type CounterDelta,
  type CountersSnapshot,
  countersSnapshotOf,
  counterUpdateSql,
  inTransaction,
} from '@outbound/db';
import type { CallStatusName } from '@outbound/domain';
import { type CqlClient, createHistoryWriter } from '@outbound/history';
import { type Logger, recordSpan } from '@outbound/observability';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { classify, UnprocessableEventError } from './errors.ts';
import { type FlowResult, optOutReason, suppressEventId } from './flow-plan.ts';
import { statusWorkerMetrics } from './metrics.ts';
import { writeMinutes } from './minutes.ts';
import {
  type BatchPlan,
  type CallUpdate,
  type LockedCall,
  listedKey,
  type OptOut,
  planBatch,
  suppressKey,
} from './plan.ts';
import { platformEvents } from './platform-events.ts';

export const CONSUMER_NAME = 'status-worker';

export interface StatusWorkerOptions {
  kafka: Kafka;
  /**
   * Produces retries and suppress messages (before commit) and live updates (after); connected by `start`, not
   * disconnected.
   */
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
    BatchConsumerOptions<TStatusTopicMessage>,
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

type Message = ConsumedMessage<TStatusTopicMessage>;

interface Committed {
  plan: BatchPlan;
  counters: CountersSnapshot[];
  updatedAt: Map<string, Date>;
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
         p.retry_on::text[] AS retry_on, p.retry_outcome_delays,
         c.answered_by::text AS answered_by, c.message_played, c.voicemail_left, c.answer_key, c.answer_label,
         c.opted_out_at, c.transfer_number, c.transfer_status::text AS transfer_status, c.transfer_duration_ms,
         c.flow_error
  FROM calls c JOIN campaigns p ON p.id = c.campaign_id
  WHERE c.id = ANY($1::uuid[])
  ORDER BY c.id
  FOR UPDATE OF c`;

/** The calls suppress messages name, by campaign and number (unique), before they are locked with the others. */
const SUPPRESS_CALLS = `
  SELECT c.id, c.campaign_id, c.phone_number FROM calls c
  JOIN unnest($1::uuid[], $2::text[]) AS s(campaign_id, phone_number)
    ON c.campaign_id = s.campaign_id AND c.phone_number = s.phone_number`;

/** The numbers of the batch's suppress messages still on their tenant's list, held there until the commit. */
const LISTED = `
  SELECT d.tenant_id, d.phone_number FROM do_not_call d
  JOIN unnest($1::uuid[], $2::text[]) AS s(tenant_id, phone_number)
    ON d.tenant_id = s.tenant_id AND d.phone_number = s.phone_number
  FOR SHARE OF d`;

/** The campaigns with calls waiting (PENDING, RETRY_SCHEDULED) to each opted-out number, after this batch's writes. */
const WAITING_CAMPAIGNS = `
  SELECT DISTINCT o.i::int AS i, c.campaign_id FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS o(tenant_id, phone_number, i)
  JOIN calls c ON c.tenant_id = o.tenant_id AND c.phone_number = o.phone_number
  WHERE c.status IN ('PENDING', 'RETRY_SCHEDULED')
  ORDER BY 1, 2`;

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
    answered_by = u.answered_by::"AnsweredBy",
    message_played = u.message_played,
    voicemail_left = u.voicemail_left,
    answer_key = u.answer_key,
    answer_label = u.answer_label,
    opted_out_at = u.opted_out_at,
    transfer_number = u.transfer_number,
    transfer_status = u.transfer_status::"TransferStatus",
    transfer_duration_ms = u.transfer_duration_ms,
    flow_error = u.flow_error,
    updated_at = now()
  FROM unnest($1::uuid[], $2::text[], $3::int[], $4::uuid[], $5::timestamptz[], $6::text[], $7::text[], $8::text[],
              $9::text[], $10::boolean[], $11::text[], $12::boolean[], $13::boolean[], $14::text[], $15::text[],
              $16::timestamptz[], $17::text[], $18::text[], $19::int[], $20::text[])
       AS u(id, status, attempts, attempt_id, next_attempt_at, last_outcome, last_error, skip_reason,
            provider_call_id, finished, answered_by, message_played, voicemail_left, answer_key, answer_label,
            opted_out_at, transfer_number, transfer_status, transfer_duration_ms, flow_error)
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
    flow: {
      answeredBy: r.answered_by as FlowResult['answeredBy'],
      messagePlayed: r.message_played as boolean,
      voicemailLeft: r.voicemail_left as boolean,
      answerKey: r.answer_key as string | null,
      answerLabel: r.answer_label as string | null,
      optedOutAt: r.opted_out_at as Date | null,
      transferNumber: r.transfer_number as string | null,
      transferStatus: r.transfer_status as FlowResult['transferStatus'],
      transferDurationMs: r.transfer_duration_ms as number | null,
      flowError: r.flow_error as string | null,
    },
  };
}

/** The UPDATE_CALLS parameters of the changed calls (every column the worker writes). */
function updateParams(updates: readonly CallUpdate[]): unknown[] {
  const u = updates.map((x) => x.call);
  const f = u.map((c) => c.flow);
  return [
    u.map((c) => c.id),
    u.map((c) => c.status),
    u.map((c) => c.attempts),
    u.map((c) => c.currentAttemptId),
    u.map((c) => c.nextAttemptAt),
    u.map((c) => c.lastOutcome),
    u.map((c) => c.lastError),
    u.map((c) => c.skipReason),
    u.map((c) => c.providerCallId),
    updates.map((x) => x.finished),
    f.map((r) => r.answeredBy),
    f.map((r) => r.messagePlayed),
    f.map((r) => r.voicemailLeft),
    f.map((r) => r.answerKey),
    f.map((r) => r.answerLabel),
    f.map((r) => r.optedOutAt),
    f.map((r) => r.transferNumber),
    f.map((r) => r.transferStatus),
    f.map((r) => r.transferDurationMs),
    f.map((r) => r.flowError),
  ];
}

/**
 * A status or flow event whose call does not exist, or exists under another campaign or tenant, can never apply;
 * nor a suppress message whose campaign's call to the number is another tenant's.
 */
function checkReferences(
  messages: readonly TStatusTopicMessage[],
  calls: ReadonlyMap<string, { campaignId: string; tenantId: string }>,
  suppressCalls: ReadonlyMap<string, string>,
): void {
  const problems: string[] = [];
  for (const m of messages) {
    if (m.kind === 'suppress') {
      const call = calls.get(suppressCalls.get(suppressKey(m)) ?? '');
      if (call && call.tenantId !== m.tenantId)
        problems.push(`message ${m.eventId}: campaign ${m.campaignId} is not of tenant ${m.tenantId}`);
      continue;
    }
    const call = calls.get(m.callId);
    if (!call) problems.push(`event ${m.eventId}: call ${m.callId} does not exist`);
    else if (call.campaignId !== m.campaignId || call.tenantId !== m.tenantId)
      problems.push(
        `event ${m.eventId}: call ${m.callId} belongs to campaign ${call.campaignId} (tenant ${call.tenantId}), not campaign ${m.campaignId} (tenant ${m.tenantId})`,
      );
  }
  if (problems.length > 0) throw new UnprocessableEventError(problems.join('; '));
}

/** The messages new to the ledger (one id once, whatever the batch and the redeliveries hold), in batch order. */
async function freshInLedger(
  client: pg.PoolClient,
  messages: readonly Message[],
): Promise<{ fresh: { message: TStatusTopicMessage; index: number }[]; duplicates: number }> {
  const seen = new Set<string>();
  const unique = messages.filter((m) => !seen.has(m.message.eventId) && seen.add(m.message.eventId));
  const inserted = await client.query<{ event_id: string }>(
    `INSERT INTO processed_events (event_id, consumer) SELECT e, $2 FROM unnest($1::text[]) AS e
     ON CONFLICT (event_id) DO NOTHING RETURNING event_id`,
    [unique.map((m) => m.message.eventId), CONSUMER_NAME],
  );
  const ids = new Set(inserted.rows.map((r) => r.event_id));
  return {
    fresh: unique
      .map((m) => ({ message: m.message, index: messages.indexOf(m) }))
      .filter((m) => ids.has(m.message.eventId)),
    duplicates: messages.length - ids.size,
  };
}

/** The call each suppress message names (its campaign's call to the number), by `suppressKey`. */
async function suppressedCalls(
  client: pg.PoolClient,
  suppress: readonly TSuppressNumber[],
): Promise<Map<string, string>> {
  const calls = new Map<string, string>();
  if (suppress.length === 0) return calls;
  const found = await client.query(SUPPRESS_CALLS, [
    suppress.map((m) => m.campaignId),
    suppress.map((m) => m.phoneNumber),
  ]);
  for (const r of found.rows)
    calls.set(suppressKey({ campaignId: r.campaign_id, phoneNumber: r.phone_number }), r.id);
  return calls;
}

/** The suppressed numbers still on their tenant's list, by `listedKey`, share-locked until the commit. */
async function listedNumbers(
  client: pg.PoolClient,
  suppress: readonly TSuppressNumber[],
): Promise<Set<string>> {
  const listed = new Set<string>();
  if (suppress.length === 0) return listed;
  const rows = await client.query(LISTED, [
    suppress.map((m) => m.tenantId),
    suppress.map((m) => m.phoneNumber),
  ]);
  for (const r of rows.rows) listed.add(listedKey({ tenantId: r.tenant_id, phoneNumber: r.phone_number }));
  return listed;
}

/**
 * Locks what the messages act on, in the order every writer takes it: the campaigns of final events (share), the
 * calls in id order (those events name, and the calls suppress messages name by campaign and number), then the
 * suppressed numbers' do-not-call rows (share: a removal from the list waits for the commit, or is seen).
 */
async function lockTargets(
  client: pg.PoolClient,
  messages: readonly TStatusTopicMessage[],
): Promise<{ locked: Map<string, LockedCall>; suppressCalls: Map<string, string>; listed: Set<string> }> {
  const ending = messages.flatMap((m) =>
    m.kind === 'status' && m.event === 'completed' ? [m.campaignId] : [],
  );
  if (ending.length > 0) await client.query(LOCK_CAMPAIGNS, [[...new Set(ending)]]);
  const suppress = messages.filter((m): m is TSuppressNumber => m.kind === 'suppress');
  const suppressCalls = await suppressedCalls(client, suppress);
  const named = messages.flatMap((m) => (m.kind === 'suppress' ? [] : [m.callId]));
  const ids = [...new Set([...named, ...suppressCalls.values()])];
  const locked = new Map(
    (await client.query(LOCK_CALLS, [ids])).rows.map((r) => [r.id as string, lockedCall(r)]),
  );
  checkReferences(messages, locked, suppressCalls);
  return { locked, suppressCalls, listed: await listedNumbers(client, suppress) };
}

/** The changed calls written in one statement; their new `updated_at` by id. */
async function writeCalls(client: pg.PoolClient, updates: readonly CallUpdate[]): Promise<Map<string, Date>> {
  const updatedAt = new Map<string, Date>();
  if (updates.length === 0) return updatedAt;
  const result = await client.query(UPDATE_CALLS, updateParams(updates));
  for (const r of result.rows) updatedAt.set(r.id as string, r.updated_at as Date);
  return updatedAt;
}

/**
 * The counter deltas, per campaign in id order (two transactions never wait on each other's counters in a cycle),
 * then the new counters read back.
 */
async function writeCounters(
  client: pg.PoolClient,
  deltas: ReadonlyMap<string, CounterDelta>,
): Promise<CountersSnapshot[]> {
  const campaigns = [...deltas.keys()].sort();
  for (const campaignId of campaigns) {
    const update = counterUpdateSql(campaignId, deltas.get(campaignId) ?? {});
    if (!update) continue;
    const result = await client.query(update.text, update.values);
    if (result.rowCount !== 1)
      throw new UnprocessableEventError(`campaign ${campaignId} has no counters row`);
  }
  if (campaigns.length === 0) return [];
  return (await client.query(READ_COUNTERS, [campaigns])).rows.map(countersSnapshotOf);
}

/** The three settled; then the first failure thrown, or their values. */
async function settleAll<A, B, C>(promises: [Promise<A>, Promise<B>, Promise<C>]): Promise<[A, B, C]> {
  const results = await Promise.allSettled(promises);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
  return Promise.all(promises);
}

/**
 * The status worker: per batch of `campaign.calls.status` (status events, flow events, suppress messages), (1) one
 * PostgreSQL transaction: ledger, calls locked in id order, the state machine and the flow results, the Cassandra
 * history of what it applied for the first time, batched call updates, counter deltas per campaign, and the retry
 * and suppress messages produced and acknowledged before COMMIT, (2) after commit, the slots of every attempt a
 * final event names released, attempt endings added to the throughput series and live updates published (all best
 * effort).
 */
export function createStatusWorker(options: StatusWorkerOptions): StatusWorker {
  const { pool, producer, topics, semaphore, throughput, registry } = options;
  const logger = options.logger.child({ component: 'status-worker' });
  const now = options.now ?? (() => new Date());
  const metrics = statusWorkerMetrics(registry);
  const history = createHistoryWriter(options.cql);

  function retryMessages(plan: BatchPlan, messages: readonly Message[]): TopicMessages[] {
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
        headers: traceHeaders((messages[retry.traceIndex] as Message).trace),
      });
      byTopic.set(topic, entry);
    }
    return [...byTopic.values()];
  }

  /**
   * One suppress message per keypad opt-out of the batch and campaign of its tenant with a call waiting to the
   * number (read after this batch's own writes), key campaign id, on the status topic.
   */
  async function suppressMessages(
    client: pg.PoolClient,
    plan: BatchPlan,
    messages: readonly Message[],
  ): Promise<TopicMessages[]> {
    if (plan.optOuts.length === 0) return [];
    const waiting = await client.query<{ i: number; campaign_id: string }>(WAITING_CAMPAIGNS, [
      plan.optOuts.map((o) => o.event.tenantId),
      plan.optOuts.map((o) => o.event.phoneNumber),
    ]);
    const out = waiting.rows.map(({ i, campaign_id: campaignId }) => {
      const { event, traceIndex } = plan.optOuts[i - 1] as OptOut;
      const message: TSuppressNumber = {
        v: 1,
        kind: 'suppress',
        eventId: suppressEventId(event.eventId, campaignId),
        tenantId: event.tenantId,
        campaignId,
        phoneNumber: event.phoneNumber,
        reason: optOutReason(event.callId),
        occurredAt: event.occurredAt,
      };
      return {
        key: campaignId,
        value: encode(message),
        headers: traceHeaders((messages[traceIndex] as Message).trace),
      };
    });
    return out.length > 0 ? [{ topic: topics.status, messages: out }] : [];
  }

  /** The batch's `campaign.events` (attempt endings, finished calls, opt-outs), key campaign id, in batch order. */
  function eventMessages(plan: BatchPlan, messages: readonly Message[]): TopicMessages[] {
    const events = platformEvents(plan, now()).map(({ event, index }) => ({
      key: event.campaignId,
      value: encode(event),
      headers: traceHeaders((messages[index] as Message).trace),
    }));
    return events.length > 0 ? [{ topic: topics.events, messages: events }] : [];
  }

  /**
   * The history, while the calls are locked, of messages new to the ledger only (a replay or a redelivery is never
   * written again): what the state machine applied, progress of attempts the call really had, how attempts ended as
   * decided here, and the flow events. An ending it did not apply, or an attempt the call never had, is not written,
   * as PostgreSQL ignores it. A failure rolls everything back (the ledger too): the redelivery writes it.
   */
  async function writeHistory(plan: BatchPlan, locked: ReadonlyMap<string, LockedCall>): Promise<void> {
    const phoneOf = (callId: string) => locked.get(callId)?.phoneNumber;
    try {
      const ofEarlierAttempts =
        plan.unverified.length > 0 ? await history.ofKnownAttempts(plan.unverified) : [];
      await history.writeAll(
        {
          events: [...plan.recorded, ...ofEarlierAttempts],
          endings: plan.ended.map((a) => a.event),
          flowEvents: plan.flowEvents,
        },
        phoneOf,
      );
    } catch (err) {
      throw new RetryableError(`writing the call history: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Retries, suppress messages and the batch's `campaign.events` are acknowledged by Kafka before the transaction
   * commits: a committed RETRY_SCHEDULED call always has its message, a committed opt-out its suppress messages, a
   * committed ending its event. (A message whose transaction then fails is harmless: the retry worker's conditional
   * update finds no RETRY_SCHEDULED row with that attempt id; a suppress message finds the number on the list, as
   * the carrier ingress put it there, or not; the batch applied again sends its events with the same ids.)
   */
  async function produceBeforeCommit(batches: TopicMessages[]): Promise<void> {
    if (batches.length === 0) return;
    try {
      await producer.sendMany(batches);
    } catch (err) {
      throw new RetryableError(`producing retries, suppress messages and events: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  /** The transaction; resolves once committed, with what the after-commit steps need (null: nothing was new). */
  async function transact(messages: readonly Message[]): Promise<Committed | null> {
    const started = performance.now();
    const step = { phase: 'connecting to PostgreSQL' };
    let committed: Committed | null;
    try {
      committed = await inTransaction(pool, async (client): Promise<Committed | null> => {
        step.phase = 'the status transaction';
        const { fresh, duplicates } = await freshInLedger(client, messages);
        if (duplicates > 0) metrics.duplicates.inc(duplicates);
        if (fresh.length === 0) return null;
        const { locked, suppressCalls, listed } = await lockTargets(
          client,
          fresh.map((m) => m.message),
        );
        const plan = planBatch(fresh, locked, {
          now: now(),
          newAttemptId: randomUUID,
          ...(options.random && { random: options.random }),
          suppressCalls,
          listed,
        });
        for (const { reason } of plan.ignored) metrics.ignored.inc({ reason });
        // Three independent writes of what the plan decided, at once (the batch's wall time is the longest of them,
        // not their sum; it holds the calls' locks and, until it ends, their concurrency slots): the history in
        // Cassandra, the retries and `campaign.events` to Kafka, and the rows in PostgreSQL (then the suppress
        // messages, which need this batch's writes). All of them before the commit, as before; each is waited for
        // even when another failed, so no statement of this transaction is sent after its ROLLBACK.
        step.phase = 'writing the call history, the calls and counters, producing retries and events';
        const [, [updatedAt, counters]] = await settleAll([
          writeHistory(plan, locked),
          (async () => {
            const written = [
              await writeCalls(client, plan.updates),
              await writeCounters(client, plan.deltas),
            ] as const;
            // After the counters: a campaign's minutes are written only under its counters row's lock.
            await writeMinutes(client, plan.ended);
            await produceBeforeCommit(await suppressMessages(client, plan, messages));
            return written;
          })(),
          produceBeforeCommit([...retryMessages(plan, messages), ...eventMessages(plan, messages)]),
        ]);
        step.phase = 'committing';
        return { plan, counters, updatedAt };
      });
    } catch (err) {
      throw classify(err, step.phase);
    }
    if (!committed) return null;
    metrics.transactionDuration.observe((performance.now() - started) / 1000);
    metrics.retriesScheduled.inc(committed.plan.retries.length);
    metrics.optOuts.inc(committed.plan.optOuts.length);
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
  async function releaseSlots(messages: readonly Message[]): Promise<void> {
    const byCampaign = new Map<string, Set<string>>();
    for (const { message: e } of messages)
      if (e.kind === 'status' && e.event === 'completed')
        byCampaign.set(e.campaignId, (byCampaign.get(e.campaignId) ?? new Set()).add(e.attemptId));
    const campaigns = [...byCampaign];
    // One ZREM per campaign of the batch, not one per attempt.
    const results = await Promise.allSettled(
      campaigns.map(([campaignId, attempts]) =>
        semaphore.releaseMany(campaignSlotsKey(campaignId), [...attempts]),
      ),
    );
    results.forEach((result, i) => {
      if (result.status === 'rejected') {
        const [campaignId, attempts] = campaigns[i] as [string, Set<string>];
        metrics.slotReleaseFailures.inc(attempts.size);
        logger.warn(
          { err: result.reason, campaignId, attemptIds: [...attempts] },
          'could not release concurrency slots; the lease reconciliation of the call-workers will',
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

  /**
   * A `commit status` span in each message's trace, over the batch's transaction: there the call's status (its final
   * one included) was committed.
   */
  function traceCommit(messages: readonly Message[], committed: Committed, startedAt: number): void {
    const updates = new Map(committed.plan.updates.map((u) => [u.call.id, u]));
    for (const { message, trace } of messages) {
      const update = 'callId' in message ? updates.get(message.callId) : undefined;
      recordSpan('commit status', trace, startedAt, {
        'outbound.message.kind': message.kind,
        ...(message.kind === 'status' && { 'outbound.status.event': message.event }),
        ...(update && {
          'outbound.call.id': update.call.id,
          'outbound.call.status': update.call.status,
          'outbound.call.transitioned': update.transitioned,
          'outbound.call.finished': update.finished,
        }),
      });
    }
  }

  async function handleBatch(batch: BatchContext<TStatusTopicMessage>): Promise<void> {
    const messages = batch.messages;
    const startedAt = Date.now();
    const committed = await transact(messages);
    if (committed) {
      traceCommit(messages, committed, startedAt);
      options.afterCommit?.();
    }
    await releaseSlots(messages);
    if (!committed) return;
    await recordThroughput(committed);
    await publishLive(committed);
    logger.debug(
      {
        partition: batch.partition,
        messages: messages.length,
        transitions: committed.plan.updates.filter((u) => u.transitioned).length,
        retries: committed.plan.retries.length,
        flowEvents: committed.plan.flowEvents.length,
        optOuts: committed.plan.optOuts.length,
        ignored: committed.plan.ignored.length,
        traceId: traceIdOf((messages[0] as Message).trace),
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
        schema: ZStatusTopicMessage,
        // The consumer runtime names its own component.
        logger: options.logger,
        deadLetterTopic: topics.deadLetter,
        producer,
        registry,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 1,
        // A batch is one transaction and one Cassandra request per call: at a campaign's pace, waiting for more
        // messages saves more than the wait costs (docs/pipeline.md, "Throughput").
        fetchLinger: true,
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
