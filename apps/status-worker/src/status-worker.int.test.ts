import { randomUUID } from 'node:crypto';
import type { Context } from '@opentelemetry/api';
import { parseEnv, redisEnv } from '@outbound/config';
import {
  contextFromHeaders,
  decode,
  encode,
  headerValue,
  type KafkaHeaders,
  parseDeadLetterHeaders,
  type TFlowEvent,
  type TStatusEvent,
  type TStatusTopicMessage,
  traceHeaders,
  traceIdOf,
  ZLiveUpdate,
  ZPlatformEvent,
  ZRetry,
  ZSuppressNumber,
} from '@outbound/contracts';
import {
  campaignSlotsKey,
  createRedisClient,
  LeaseSemaphore,
  THROUGHPUT_BUCKET_SECONDS,
  THROUGHPUT_RETENTION_SECONDS,
  ThroughputSeries,
  throughputKey,
} from '@outbound/coordination';
import { cancelOpenCalls } from '@outbound/db';
import { blockedBy } from '@outbound/db/testing';
import { createMetricsRegistry } from '@outbound/observability';
import {
  type CapturedSpans,
  captureSpans,
  parentSpanIdOf,
  rootContext,
} from '@outbound/observability/testing';
import {
  type CampaignFixture,
  callRow,
  countersAndRows,
  createCampaign,
  createHarness,
  eventually,
  type Harness,
  testLogger,
} from '@outbound/testing';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStatusWorker, type StatusWorker } from './status-worker.ts';

let h: Harness;
let redis: Redis;
let semaphore: LeaseSemaphore;
let registry: Registry;
let worker: StatusWorker;
/** Telemetry on for this file (in memory): the events' traces are checked. */
let capture: CapturedSpans;

beforeAll(async () => {
  capture = captureSpans();
  h = await createHarness('status', { cassandra: true });
  redis = createRedisClient(parseEnv(redisEnv, process.env), testLogger, 'status-worker-test');
  semaphore = new LeaseSemaphore(redis);
  registry = createMetricsRegistry('status-worker-test');
  worker = createStatusWorker({
    kafka: h.kafka,
    producer: h.producer,
    topics: h.topics,
    pool: h.pool,
    cql: h.cql,
    semaphore,
    throughput: new ThroughputSeries(redis),
    logger: testLogger,
    registry,
    groupId: h.groupId('status-worker'),
    // Short retries before dead-lettering, so a poison event costs a second, not a minute.
    consumer: {
      maxAttempts: 2,
      retryBackoffMs: { initial: 50, max: 100 },
      retryableBackoffMs: { initial: 100, max: 500 },
      maxWaitTimeInMs: 100,
    },
    random: () => 0,
  });
  await Promise.all([
    worker.start(),
    h.collect([h.topics.live, h.topics.deadLetter, h.topics.status, h.topics.events, ...h.topics.retry]),
  ]);
  await eventually(() => worker.isReady(), 'the worker to join its group');
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await redis?.quit();
  await h?.cleanup();
  await capture?.stop();
}, 60_000);

type Call = CampaignFixture['calls'][number];

function event(
  fixture: CampaignFixture,
  call: Call,
  type: TStatusEvent['event'],
  extra: Partial<TStatusEvent> = {},
): TStatusEvent {
  return {
    v: 1,
    kind: 'status',
    eventId: `${call.attemptId}:${type}:${randomUUID().slice(0, 8)}`,
    tenantId: fixture.tenantId,
    campaignId: fixture.campaignId,
    callId: call.id,
    attemptId: call.attemptId as string,
    attempt: call.attempts,
    event: type,
    providerCallId: `CA${(call.attemptId as string).replace(/-/g, '').slice(0, 16)}`,
    occurredAt: new Date().toISOString(),
    ...extra,
  };
}

/** Sends in one produce request, in order, to the campaign's partition (one batch, most likely). */
async function send(events: (TStatusTopicMessage | string)[], key?: string, parent: Context = rootContext()) {
  await h.producer.send(
    h.topics.status,
    events.map((e) => ({
      key: typeof e === 'string' ? (key ?? null) : e.campaignId,
      value: typeof e === 'string' ? e : encode(e),
      headers: traceHeaders(parent),
    })),
  );
}

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return found
    .filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
    .reduce((sum, v) => sum + v.value, 0);
}

async function expectCountersMatchRows(campaignId: string) {
  const { counters, rows } = await countersAndRows(h.pool, campaignId);
  expect(counters).toEqual(rows);
}

function liveUpdates(campaignId: string) {
  return h.collected
    .filter((m) => m.topic === h.topics.live && m.key === campaignId)
    .map((m) => {
      const decoded = decode(ZLiveUpdate, m.value);
      if (!decoded.ok) throw new Error(decoded.reason);
      return decoded.message;
    });
}

function retriesOf(callId: string) {
  return h.collected
    .filter((m) => h.topics.retry.includes(m.topic))
    .map((m) => ({ ...m, retry: decode(ZRetry, m.value) }))
    .filter((m) => m.retry.ok && m.retry.message.callId === callId);
}

async function skipReason(callId: string): Promise<string | null> {
  return (await h.pool.query('SELECT skip_reason FROM calls WHERE id = $1', [callId])).rows[0]?.skip_reason;
}

async function eventRows(callId: string) {
  return (await h.cql.execute('SELECT * FROM call_events WHERE call_id = ?', [callId])).rows;
}

describe('status worker', () => {
  it('keeps in the history only the ending PostgreSQL kept when the reaper and the carrier disagree', async () => {
    // No retries: whichever final event is applied first ends the call; the other is ignored as late.
    const fixture = await createCampaign(h.db, {
      calls: [{ status: 'DIALING' }, { status: 'DIALING' }],
      retry: { maxAttempts: 1 },
    });
    const [reapedFirst, carrierFirst] = fixture.calls as [Call, Call];
    const reaper = (call: Call) =>
      event(fixture, call, 'completed', { outcome: 'FAILED', detail: 'no word from the carrier' });
    const carrier = (call: Call) =>
      event(fixture, call, 'completed', { outcome: 'ANSWERED', durationMs: 5000 });
    const late = [carrier(reapedFirst), reaper(carrierFirst)];
    await send([reaper(reapedFirst), carrier(carrierFirst)]);
    await eventually(
      async () => (await callRow(h.pool, carrierFirst.id)).status === 'COMPLETED',
      'both calls ended',
    );
    const lateBefore = await metric('status_worker_events_ignored_total', { reason: 'late' });
    await send(late);
    await eventually(
      async () => (await metric('status_worker_events_ignored_total', { reason: 'late' })) >= lateBefore + 2,
      'the late events ignored',
    );
    // Only the ending PostgreSQL applied is in the history: the late one is neither an event nor the outcome.
    for (const e of late) expect((await eventRows(e.callId)).map((r) => r.event_id)).not.toContain(e.eventId);

    for (const [call, outcome] of [
      [reapedFirst, 'FAILED'],
      [carrierFirst, 'ANSWERED'],
    ] as const) {
      expect((await callRow(h.pool, call.id)).last_outcome).toBe(outcome);
      const attempts = (await h.cql.execute('SELECT outcome FROM call_attempts WHERE call_id = ?', [call.id]))
        .rows;
      expect(attempts.map((r) => r.outcome)).toEqual([outcome]);
    }
    await expectCountersMatchRows(fixture.campaignId);
  });

  it('takes a DIALING call through initiated, ringing, answered to COMPLETED, with history, counters and slot', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'DIALING' }] });
    const call = fixture.calls[0] as Call;
    await semaphore.acquire(campaignSlotsKey(fixture.campaignId), call.attemptId as string, 10, 60_000);
    const before = await countersAndRows(h.pool, fixture.campaignId);
    const events = [
      event(fixture, call, 'initiated'),
      event(fixture, call, 'ringing'),
      event(fixture, call, 'answered'),
      event(fixture, call, 'completed', { outcome: 'ANSWERED', durationMs: 42_000 }),
    ];
    await send(events);

    await eventually(async () => (await callRow(h.pool, call.id)).status === 'COMPLETED', 'COMPLETED');
    const row = await callRow(h.pool, call.id);
    expect(row).toMatchObject({
      attempts: 1,
      current_attempt_id: call.attemptId,
      last_outcome: 'ANSWERED',
      last_error: null,
      provider_call_id: events[0]?.providerCallId,
    });
    expect(row.finished_at).toBeInstanceOf(Date);
    await expectCountersMatchRows(fixture.campaignId);
    const after = await countersAndRows(h.pool, fixture.campaignId);
    expect(after.version).toBeGreaterThan(before.version);
    expect(after.counters).toMatchObject({ dialing: 0, completed: 1, total: 1 });

    // History: every event, one attempt row filled in by all of them, the campaign's activity.
    const rows = await eventRows(call.id);
    expect(rows.map((r) => r.event_id).sort()).toEqual(events.map((e) => e.eventId).sort());
    const attempts = (await h.cql.execute('SELECT * FROM call_attempts WHERE call_id = ?', [call.id])).rows;
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({
      attempt: 1,
      outcome: 'ANSWERED',
      duration_ms: 42_000,
      phone_number: call.phoneNumber,
      provider_call_id: events[0]?.providerCallId,
      error: null,
    });
    expect(attempts[0]?.attempt_id.toString()).toBe(call.attemptId);
    expect(attempts[0]?.dialed_at).toEqual(new Date(events[0]?.occurredAt as string));
    expect(attempts[0]?.answered_at).toEqual(new Date(events[2]?.occurredAt as string));
    expect(attempts[0]?.ended_at).toEqual(new Date(events[3]?.occurredAt as string));
    const bucket = new Date(events[0]?.occurredAt as string);
    bucket.setUTCMinutes(0, 0, 0);
    const activity = (
      await h.cql.execute('SELECT event_id FROM campaign_activity WHERE campaign_id = ? AND bucket = ?', [
        fixture.campaignId,
        bucket,
      ])
    ).rows;
    expect(activity.map((r) => r.event_id).sort()).toEqual(events.map((e) => e.eventId).sort());

    // The slot is back once the attempt ended.
    expect(await semaphore.held(campaignSlotsKey(fixture.campaignId))).toBe(0);
  });

  it('schedules a retry for a BUSY attempt with attempts left: next attempt, due time, retry topic, slot', async () => {
    const fixture = await createCampaign(h.db, {
      calls: [
        { status: 'IN_PROGRESS', attempts: 1 },
        { status: 'DIALING', attempts: 2 },
      ],
      retry: { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 600_000 },
    });
    const [first, second] = fixture.calls as [Call, Call];
    const key = campaignSlotsKey(fixture.campaignId);
    await semaphore.acquire(key, first.attemptId as string, 10, 60_000);
    await semaphore.acquire(key, second.attemptId as string, 10, 60_000);
    expect(await semaphore.held(key)).toBe(2);
    const parent = rootContext();
    const startedAt = Date.now();
    await send(
      [
        event(fixture, first, 'completed', { outcome: 'BUSY', detail: 'user busy' }),
        event(fixture, second, 'completed', { outcome: 'NO_ANSWER' }),
      ],
      undefined,
      parent,
    );

    await eventually(
      async () => (await callRow(h.pool, second.id)).status === 'RETRY_SCHEDULED',
      'both calls RETRY_SCHEDULED',
    );
    const finishedAt = Date.now();
    const rows = [await callRow(h.pool, first.id), await callRow(h.pool, second.id)];
    for (const [i, call] of [first, second].entries()) {
      const row = rows[i] as (typeof rows)[number];
      const nextAttempt = call.attempts + 1;
      // base * 2^(next - 2), no jitter: 60 s for attempt 2, 120 s for attempt 3.
      const delay = 60_000 * 2 ** (nextAttempt - 2);
      expect(row.status).toBe('RETRY_SCHEDULED');
      expect(row.attempts).toBe(nextAttempt);
      expect(row.current_attempt_id).not.toBe(call.attemptId);
      expect(row.finished_at).toBeNull();
      const due = row.next_attempt_at?.getTime() ?? 0;
      expect(due).toBeGreaterThanOrEqual(startedAt + delay);
      expect(due).toBeLessThanOrEqual(finishedAt + delay);

      // The retry message: on the level of the attempt that failed, keyed by campaign, the new attempt, the trace.
      const [message] = await eventually(
        () => {
          const found = retriesOf(call.id);
          return found.length > 0 && found;
        },
        `the retry of call ${i + 1}`,
      );
      expect(retriesOf(call.id)).toHaveLength(1);
      expect(message?.topic).toBe(h.topics.retry[call.attempts - 1]);
      expect(message?.key).toBe(fixture.campaignId);
      expect(message?.retry.ok && message.retry.message).toMatchObject({
        kind: 'retry',
        callId: call.id,
        attemptId: row.current_attempt_id,
        attempt: nextAttempt,
        phoneNumber: call.phoneNumber,
        callerId: '+442079460000',
        timezone: call.timezone,
        dueAt: row.next_attempt_at?.toISOString(),
      });
      expect(traceIdOf(contextFromHeaders(message?.headers as KafkaHeaders))).toBe(traceIdOf(parent));
    }
    expect(rows[0]).toMatchObject({ last_outcome: 'BUSY', last_error: 'user busy' });
    expect(rows[1]).toMatchObject({ last_outcome: 'NO_ANSWER' });
    expect(await semaphore.held(key)).toBe(0);
    await expectCountersMatchRows(fixture.campaignId);
    expect((await countersAndRows(h.pool, fixture.campaignId)).counters).toMatchObject({
      retryScheduled: 2,
      attempts: 5,
    });
  });

  it('keeps the outcome breakdown, the talk time and the minutes in the commit of the calls; a retry moves the outcome', async () => {
    const fixture = await createCampaign(h.db, {
      calls: [{ status: 'DIALING' }, { status: 'DIALING' }, { status: 'IN_PROGRESS' }, { status: 'DIALING' }],
      retry: { maxAttempts: 2, baseDelayMs: 60_000, retryOn: ['BUSY'] },
    });
    const [busy, answered, machine, unanswered] = fixture.calls as [Call, Call, Call, Call];
    // Two whole minutes, a few minutes ago.
    const m0 = Math.floor(Date.now() / 60_000) * 60_000 - 5 * 60_000;
    const at = (seconds: number) => new Date(m0 + seconds * 1000).toISOString();
    const busyEnding = event(fixture, busy, 'completed', { outcome: 'BUSY', occurredAt: at(5) });
    await send([
      busyEnding,
      event(fixture, answered, 'completed', { outcome: 'ANSWERED', durationMs: 30_000, occurredAt: at(10) }),
      event(fixture, machine, 'completed', { outcome: 'VOICEMAIL', durationMs: 8000, occurredAt: at(65) }),
      event(fixture, unanswered, 'completed', { outcome: 'NO_ANSWER', occurredAt: at(70) }),
    ]);
    await eventually(
      async () => (await callRow(h.pool, unanswered.id)).status === 'FAILED',
      'the batch committed',
    );
    await expectCountersMatchRows(fixture.campaignId);
    expect((await countersAndRows(h.pool, fixture.campaignId)).counters).toMatchObject({
      outcomeBusy: 1,
      outcomeAnswered: 1,
      outcomeVoicemail: 1,
      outcomeNoAnswer: 1,
      retryScheduled: 1,
    });
    const talk = async () =>
      (
        await h.pool.query('SELECT talk_ms::int, talked FROM campaign_counters WHERE campaign_id = $1', [
          fixture.campaignId,
        ])
      ).rows[0];
    // Only the attempt a person answered talked (a machine's voicemail is not talk time).
    expect(await talk()).toEqual({ talk_ms: 30_000, talked: 1 });
    const minutes = async () =>
      (
        await h.pool.query(
          `SELECT extract(epoch FROM minute)::bigint * 1000 AS minute, ended, answered, busy, no_answer, voicemail,
                  finished, talk_ms::int FROM campaign_minutes WHERE campaign_id = $1 ORDER BY minute`,
          [fixture.campaignId],
        )
      ).rows.map((r) => ({ ...r, minute: Number(r.minute) }));
    const first = {
      minute: m0,
      ended: 2,
      answered: 1,
      busy: 1,
      no_answer: 0,
      voicemail: 0,
      finished: 1,
      talk_ms: 30_000,
    };
    const second = {
      minute: m0 + 60_000,
      ended: 2,
      answered: 0,
      busy: 0,
      no_answer: 1,
      voicemail: 1,
      finished: 2,
      talk_ms: 0,
    };
    expect(await minutes()).toEqual([first, second]);

    // A redelivered ending counts nothing again (the ledger).
    await send([busyEnding]);
    // The retry is dialled (as the retry worker does: DIALING, counters in the same statement) and answered.
    const retry = await callRow(h.pool, busy.id);
    await h.pool.query(
      `WITH c AS (UPDATE calls SET status = 'DIALING' WHERE id = $1 RETURNING campaign_id)
       UPDATE campaign_counters SET retry_scheduled = retry_scheduled - 1, dialing = dialing + 1, version = version + 1
       WHERE campaign_id = (SELECT campaign_id FROM c)`,
      [busy.id],
    );
    await send([
      event(fixture, { ...busy, attemptId: retry.current_attempt_id, attempts: 2 }, 'completed', {
        outcome: 'ANSWERED',
        durationMs: 12_500,
        occurredAt: at(130),
      }),
    ]);
    await eventually(
      async () => (await callRow(h.pool, busy.id)).status === 'COMPLETED',
      'the retry answered',
    );
    await expectCountersMatchRows(fixture.campaignId);
    // The call's outcome moved from busy to answered: calls, not attempts, are counted.
    expect((await countersAndRows(h.pool, fixture.campaignId)).counters).toMatchObject({
      outcomeBusy: 0,
      outcomeAnswered: 2,
      outcomeVoicemail: 1,
      outcomeNoAnswer: 1,
    });
    expect(await talk()).toEqual({ talk_ms: 42_500, talked: 2 });
    expect(await minutes()).toEqual([
      first,
      second,
      {
        minute: m0 + 120_000,
        ended: 1,
        answered: 1,
        busy: 0,
        no_answer: 0,
        voicemail: 0,
        finished: 1,
        talk_ms: 12_500,
      },
    ]);
  });

  it('retries nothing once the campaign is cancelled: the outcome that would have been retried ends it CANCELLED', async () => {
    const fixture = await createCampaign(h.db, {
      calls: [{ status: 'IN_PROGRESS' }, { status: 'DIALING' }, { status: 'DIALING' }],
      retry: { maxAttempts: 3 },
    });
    const [busy, answered, ringing] = fixture.calls as [Call, Call, Call];
    for (const call of fixture.calls)
      await semaphore.acquire(campaignSlotsKey(fixture.campaignId), call.attemptId as string, 10, 60_000);
    // Cancelled while the three were at the carrier (the cancel ends only calls not dialled yet: none here).
    await h.pool.query(`UPDATE campaigns SET status = 'CANCELLED', finished_at = now() WHERE id = $1`, [
      fixture.campaignId,
    ]);
    await send([
      event(fixture, busy, 'completed', { outcome: 'BUSY', detail: 'user busy' }),
      event(fixture, answered, 'completed', { outcome: 'ANSWERED', durationMs: 1000 }),
      event(fixture, ringing, 'ringing'),
    ]);
    await eventually(
      async () => (await callRow(h.pool, answered.id)).status === 'COMPLETED',
      'the batch applied',
    );

    expect(await callRow(h.pool, busy.id)).toMatchObject({
      status: 'CANCELLED',
      attempts: 1,
      last_outcome: 'BUSY',
      last_error: 'user busy',
      next_attempt_at: null,
      finished_at: expect.any(Date),
    });
    expect(await skipReason(busy.id)).toBe('the campaign was cancelled');
    // Endings that were not to be retried, and progress, are what they always are.
    expect((await callRow(h.pool, ringing.id)).status).toBe('IN_PROGRESS');
    const attempts = (await h.cql.execute('SELECT outcome FROM call_attempts WHERE call_id = ?', [busy.id]))
      .rows;
    expect(attempts.map((r) => r.outcome)).toEqual(['BUSY']);
    await expectCountersMatchRows(fixture.campaignId);
    // Slots and live updates follow the commit: the live update is the last of them, so it is awaited first.
    const live = await eventually(
      () =>
        liveUpdates(fixture.campaignId)
          .flatMap((u) => (u.kind === 'calls' ? u.calls : []))
          .find((c) => c.callId === busy.id),
      'the live update of the cancelled call',
    );
    expect(live).toMatchObject({ status: 'CANCELLED', attempts: 1 });
    expect(await semaphore.held(campaignSlotsKey(fixture.campaignId))).toBe(1);
    expect(retriesOf(busy.id)).toEqual([]);
  });

  it('makes a cancel and an ending at the carrier wait for each other: no retry outlives the cancel', async () => {
    const fixture = await createCampaign(h.db, {
      calls: [{ status: 'IN_PROGRESS' }, { status: 'PENDING' }],
      retry: { maxAttempts: 3 },
    });
    const [atCarrier, notDialled] = fixture.calls as [Call, Call];
    // The gateway's cancel, held open before its commit: the campaign row updated, the calls not dialled ended.
    const cancel = await h.pool.connect();
    try {
      await cancel.query('BEGIN');
      await cancel.query(`UPDATE campaigns SET status = 'CANCELLED', finished_at = now() WHERE id = $1`, [
        fixture.campaignId,
      ]);
      await cancelOpenCalls(
        async (text, values) => (await cancel.query(text, values)).rows,
        fixture.campaignId,
        ['PENDING', 'QUEUED', 'RETRY_SCHEDULED'],
        'the campaign was cancelled',
      );
      const cancelPid = (await cancel.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
      await send([event(fixture, atCarrier, 'completed', { outcome: 'NO_ANSWER' })]);
      // The status batch waits for the cancel (for the campaign row; without it, for the counters row, having
      // already decided on a retry).
      await blockedBy(h.pool, cancelPid as number);
      await cancel.query('COMMIT');
    } finally {
      cancel.release();
    }
    await eventually(
      async () => (await callRow(h.pool, atCarrier.id)).status !== 'IN_PROGRESS',
      'the ending',
    );
    expect(await callRow(h.pool, atCarrier.id)).toMatchObject({
      status: 'CANCELLED',
      last_outcome: 'NO_ANSWER',
    });
    expect((await callRow(h.pool, notDialled.id)).status).toBe('CANCELLED');
    expect(retriesOf(atCarrier.id)).toEqual([]);
    await expectCountersMatchRows(fixture.campaignId);
  });

  it('fails a call whose attempts are exhausted, and a REJECTED one at once, without retries', async () => {
    const fixture = await createCampaign(h.db, {
      calls: [
        { status: 'IN_PROGRESS', attempts: 3 },
        { status: 'IN_PROGRESS', attempts: 1 },
      ],
      retry: { maxAttempts: 3, retryOn: ['BUSY', 'NO_ANSWER', 'FAILED'] },
    });
    const [exhausted, rejected] = fixture.calls as [Call, Call];
    await send([
      event(fixture, exhausted, 'completed', { outcome: 'BUSY', detail: 'busy again' }),
      event(fixture, rejected, 'completed', { outcome: 'REJECTED', detail: 'declined' }),
    ]);
    await eventually(
      async () =>
        (await callRow(h.pool, exhausted.id)).status === 'FAILED' &&
        (await callRow(h.pool, rejected.id)).status === 'FAILED',
      'both FAILED',
    );
    expect(await callRow(h.pool, exhausted.id)).toMatchObject({
      attempts: 3,
      current_attempt_id: exhausted.attemptId,
      last_outcome: 'BUSY',
      last_error: 'busy again',
      next_attempt_at: null,
    });
    expect(await callRow(h.pool, rejected.id)).toMatchObject({
      attempts: 1,
      current_attempt_id: rejected.attemptId,
      last_outcome: 'REJECTED',
      last_error: 'declined',
    });
    // The live update is published after the commit, which comes after any retry produce: none was made.
    await eventually(
      () => liveUpdates(fixture.campaignId).some((u) => u.kind === 'calls'),
      'the live update of the batch',
    );
    expect(retriesOf(exhausted.id)).toEqual([]);
    expect(retriesOf(rejected.id)).toEqual([]);
    await expectCountersMatchRows(fixture.campaignId);
  });

  it('adds the attempt endings of a committed batch to the throughput buckets of their campaign, once', async () => {
    const fixture = await createCampaign(h.db, {
      calls: [{ status: 'DIALING' }, { status: 'DIALING' }, { status: 'IN_PROGRESS' }, { status: 'DIALING' }],
      retry: { maxAttempts: 1 },
    });
    const [answered, busy, later, marker] = fixture.calls as [Call, Call, Call, Call];
    // Two buckets a minute ago (whole buckets, so the times below cannot straddle one by accident).
    const bucket = Math.floor(Date.now() / 1000 / THROUGHPUT_BUCKET_SECONDS) * THROUGHPUT_BUCKET_SECONDS - 60;
    const at = (seconds: number) => new Date((bucket + seconds) * 1000).toISOString();
    const key = throughputKey(fixture.campaignId, bucket);
    const nextKey = throughputKey(fixture.campaignId, bucket + THROUGHPUT_BUCKET_SECONDS);
    const busyEnding = event(fixture, busy, 'completed', { outcome: 'BUSY', occurredAt: at(2) });
    await send([
      event(fixture, answered, 'answered', { occurredAt: at(0) }),
      event(fixture, answered, 'completed', { outcome: 'ANSWERED', durationMs: 3000, occurredAt: at(1) }),
      busyEnding,
      event(fixture, later, 'completed', { outcome: 'ANSWERED', durationMs: 9000, occurredAt: at(12) }),
    ]);
    await eventually(async () => (await redis.exists(key, nextKey)) === 2, 'both buckets recorded');
    // Progress events count nothing; each ending counts once in its own bucket, under `ended` and its outcome.
    expect(await redis.hgetall(key)).toEqual({ ended: '2', ANSWERED: '1', BUSY: '1' });
    expect(await redis.hgetall(nextKey)).toEqual({ ended: '1', ANSWERED: '1' });
    // Kept for the longest window a chart may ask for, then gone.
    expect(await redis.call('EXPIRETIME', key)).toBe(bucket + THROUGHPUT_RETENTION_SECONDS);

    // A redelivered ending is in the ledger: no second count. The marker's bucket shows once that batch is done.
    const markerKey = throughputKey(fixture.campaignId, bucket + 2 * THROUGHPUT_BUCKET_SECONDS);
    await send([busyEnding]);
    await send([event(fixture, marker, 'completed', { outcome: 'NO_ANSWER', occurredAt: at(25) })]);
    await eventually(async () => (await redis.exists(markerKey)) === 1, 'the marker recorded');
    expect(await redis.hgetall(key)).toEqual({ ended: '2', ANSWERED: '1', BUSY: '1' });
    expect(await redis.hgetall(markerKey)).toEqual({ ended: '1', NO_ANSWER: '1' });
    await expectCountersMatchRows(fixture.campaignId);
  });

  it('gives a slot back when the final event comes again after its commit (a crash before the release)', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'DIALING' }, { status: 'DIALING' }] });
    const [call, marker] = fixture.calls as [Call, Call];
    const key = campaignSlotsKey(fixture.campaignId);
    const ending = event(fixture, call, 'completed', { outcome: 'ANSWERED', durationMs: 1000 });
    await send([ending]);
    await eventually(async () => (await callRow(h.pool, call.id)).status === 'COMPLETED', 'COMPLETED');
    // As a worker killed between its commit and its release leaves it: the lease still held, the batch not
    // committed in Kafka, so delivered again (to a duplicate in the ledger).
    await semaphore.acquire(key, call.attemptId as string, 10, 60_000);
    const duplicatesBefore = await metric('status_worker_events_duplicate_total');
    await send([ending]);
    await send([event(fixture, marker, 'ringing')]);
    await eventually(async () => (await callRow(h.pool, marker.id)).status === 'IN_PROGRESS', 'the marker');
    expect(await metric('status_worker_events_duplicate_total')).toBe(duplicatesBefore + 1);
    expect(await semaphore.held(key)).toBe(0);
  });

  it('writes to the history only what it applied for the first time: no late ending, no phantom attempt, no replay', async () => {
    const fixture = await createCampaign(h.db, {
      calls: [{ status: 'DIALING' }, { status: 'DIALING' }],
      retry: { maxAttempts: 1 },
    });
    const [call, marker] = fixture.calls as [Call, Call];
    const answered = event(fixture, call, 'completed', {
      outcome: 'ANSWERED',
      durationMs: 4000,
      detail: 'status=completed sip=200',
    });
    await send([answered]);
    await eventually(async () => (await callRow(h.pool, call.id)).status === 'COMPLETED', 'COMPLETED');

    // Signed but stale: the same callback again with fewer fields, a busy after the completion, and a callback for
    // an attempt 2 the platform never made. PostgreSQL ignores all three; so must the history.
    const replay = { ...answered, detail: 'status=completed' };
    const lateBusy = event(fixture, call, 'completed', { outcome: 'BUSY', detail: 'status=busy sip=486' });
    const phantom = event(fixture, { ...call, attemptId: randomUUID(), attempts: 2 }, 'completed', {
      outcome: 'NO_ANSWER',
    });
    // And a progress callback naming attempt 1 under an id it never had.
    const forged = event(fixture, { ...call, attemptId: randomUUID() }, 'ringing');
    await send([replay, lateBusy, phantom, forged]);
    await send([event(fixture, marker, 'ringing')]);
    await eventually(async () => (await callRow(h.pool, marker.id)).status === 'IN_PROGRESS', 'the marker');

    expect(await callRow(h.pool, call.id)).toMatchObject({ status: 'COMPLETED', last_outcome: 'ANSWERED' });
    const events = await eventRows(call.id);
    expect(events.map((r) => [r.event_id, r.outcome, r.detail])).toEqual([
      [answered.eventId, 'ANSWERED', 'status=completed sip=200'],
    ]);
    const attempts = (await h.cql.execute('SELECT * FROM call_attempts WHERE call_id = ?', [call.id])).rows;
    expect(attempts.map((r) => [r.attempt, String(r.attempt_id), r.outcome, r.duration_ms])).toEqual([
      [1, call.attemptId, 'ANSWERED', 4000],
    ]);
    await expectCountersMatchRows(fixture.campaignId);
  });

  it("records an earlier attempt's progress that arrives after its end (the call-worker's report overtaken)", async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'DIALING' }], retry: { maxAttempts: 3 } });
    const call = fixture.calls[0] as Call;
    const busy = event(fixture, call, 'completed', { outcome: 'BUSY' });
    await send([busy]);
    await eventually(async () => (await callRow(h.pool, call.id)).status === 'RETRY_SCHEDULED', 'retried');
    // The call-worker's `originated` of attempt 1, published after the carrier's end: stale for PostgreSQL (the
    // call is on attempt 2), but it happened to a real attempt.
    const originated = event(fixture, call, 'initiated', {
      eventId: `${call.attemptId}:originated`,
      occurredAt: new Date(Date.parse(busy.occurredAt) - 2000).toISOString(),
    });
    await send([originated]);
    await eventually(async () => (await eventRows(call.id)).length === 2, 'the late report in the history');
    const attempt = (await h.cql.execute('SELECT * FROM call_attempts WHERE call_id = ?', [call.id])).rows[0];
    expect(attempt).toMatchObject({ attempt: 1, outcome: 'BUSY' });
    expect(attempt?.dialed_at).toEqual(new Date(originated.occurredAt));
  });

  it('changes nothing for a duplicated event (ledger) nor for an event of an older attempt', async () => {
    const fixture = await createCampaign(h.db, {
      calls: [{ status: 'DIALING' }, { status: 'DIALING', attempts: 2 }, { status: 'DIALING' }],
    });
    const [call, retried, marker] = fixture.calls as [Call, Call, Call];
    const ringing = event(fixture, call, 'ringing');
    await send([ringing]);
    await eventually(async () => (await callRow(h.pool, call.id)).status === 'IN_PROGRESS', 'IN_PROGRESS');
    const version = (await countersAndRows(h.pool, fixture.campaignId)).version;
    const duplicatesBefore = await metric('status_worker_events_duplicate_total');
    const staleBefore = await metric('status_worker_events_ignored_total', { reason: 'stale-attempt' });

    // The same event again, an event of the attempt before the current one, then a marker on another call.
    await send([
      ringing,
      event(fixture, { ...retried, attemptId: randomUUID(), attempts: 1 }, 'completed', {
        outcome: 'ANSWERED',
      }),
      event(fixture, marker, 'initiated'),
    ]);
    await eventually(async () => (await callRow(h.pool, marker.id)).status === 'IN_PROGRESS', 'the marker');
    expect(await metric('status_worker_events_duplicate_total')).toBe(duplicatesBefore + 1);
    expect(await metric('status_worker_events_ignored_total', { reason: 'stale-attempt' })).toBe(
      staleBefore + 1,
    );
    expect(await callRow(h.pool, call.id)).toMatchObject({ status: 'IN_PROGRESS' });
    expect(await callRow(h.pool, retried.id)).toMatchObject({
      status: 'DIALING',
      attempts: 2,
      current_attempt_id: retried.attemptId,
      last_outcome: null,
    });
    // Only the marker moved the counters.
    expect((await countersAndRows(h.pool, fixture.campaignId)).version).toBe(version + 1);
    await expectCountersMatchRows(fixture.campaignId);
  });

  it('ends COMPLETED when the completion overtakes the ringing; the late ringing is ignored but recorded', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'DIALING' }] });
    const call = fixture.calls[0] as Call;
    const lateBefore = await metric('status_worker_events_ignored_total', { reason: 'late' });
    const completed = event(fixture, call, 'completed', { outcome: 'ANSWERED', durationMs: 1000 });
    const ringing = event(fixture, call, 'ringing', {
      occurredAt: new Date(Date.parse(completed.occurredAt) - 5000).toISOString(),
    });
    await send([completed, ringing]);
    await eventually(async () => (await callRow(h.pool, call.id)).status === 'COMPLETED', 'COMPLETED');
    await eventually(
      async () => (await metric('status_worker_events_ignored_total', { reason: 'late' })) === lateBefore + 1,
      'the late ringing counted',
    );
    expect((await eventRows(call.id)).map((r) => r.event_id).sort()).toEqual(
      [completed.eventId, ringing.eventId].sort(),
    );
    expect(await callRow(h.pool, call.id)).toMatchObject({ status: 'COMPLETED', last_outcome: 'ANSWERED' });
    const attempts = (await h.cql.execute('SELECT * FROM call_attempts WHERE call_id = ?', [call.id])).rows;
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ outcome: 'ANSWERED', duration_ms: 1000 });
    await expectCountersMatchRows(fixture.campaignId);
  });

  it('publishes live updates after commit, with strictly increasing versions per campaign', async () => {
    const fixture = await createCampaign(h.db, {
      calls: [{ status: 'DIALING' }, { status: 'DIALING' }, { status: 'DIALING' }],
    });
    // One commit after the other: each event is sent once the previous one is applied.
    for (const call of fixture.calls) {
      await send([event(fixture, call, 'ringing')]);
      await eventually(async () => (await callRow(h.pool, call.id)).status === 'IN_PROGRESS', 'IN_PROGRESS');
      await send([event(fixture, call, 'completed', { outcome: 'ANSWERED' })]);
      await eventually(async () => (await callRow(h.pool, call.id)).status === 'COMPLETED', 'COMPLETED');
    }
    const { version } = await eventually(async () => {
      const state = await countersAndRows(h.pool, fixture.campaignId);
      return state.counters.completed === 3 && state;
    }, 'three COMPLETED');
    const counters = await eventually(() => {
      const updates = liveUpdates(fixture.campaignId).filter((u) => u.kind === 'counters');
      return updates.at(-1)?.version === version && updates;
    }, 'the live counters of the last commit');
    const versions = counters.map((u) => (u.kind === 'counters' ? u.version : -1));
    expect(versions.length).toBeGreaterThanOrEqual(6);
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1] as number);
    const last = counters.at(-1);
    expect(last?.kind === 'counters' && last.counters).toMatchObject({
      completed: 3,
      dialing: 0,
      inProgress: 0,
    });
    const changes = liveUpdates(fixture.campaignId).flatMap((u) => (u.kind === 'calls' ? u.calls : []));
    for (const call of fixture.calls) {
      expect(changes.filter((c) => c.callId === call.id).map((c) => c.status)).toEqual([
        'IN_PROGRESS',
        'COMPLETED',
      ]);
    }
  });

  it('dead-letters an event for an unknown call with its error while the rest of the batch applies', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'DIALING' }, { status: 'DIALING' }] });
    const [a, b] = fixture.calls as [Call, Call];
    const unknown = event(fixture, { ...a, id: randomUUID() }, 'ringing');
    await send([event(fixture, a, 'ringing'), unknown, event(fixture, b, 'ringing')]);
    const letter = await eventually(
      () =>
        h.collected.find(
          (m) =>
            m.topic === h.topics.deadLetter &&
            headerValue(m.headers as KafkaHeaders, 'x-original-topic') === h.topics.status &&
            m.value.includes(unknown.eventId),
        ),
      'the dead letter',
      30_000,
    );
    const parsed = parseDeadLetterHeaders(letter.headers as KafkaHeaders);
    expect(parsed.ok && parsed.info).toMatchObject({ kind: 'failed', consumer: 'status-worker' });
    expect(parsed.ok && parsed.info.error).toContain(`call ${unknown.callId} does not exist`);
    expect(letter.key).toBe(fixture.campaignId);
    await eventually(
      async () =>
        (await callRow(h.pool, a.id)).status === 'IN_PROGRESS' &&
        (await callRow(h.pool, b.id)).status === 'IN_PROGRESS',
      'the other events applied',
    );
    expect(await eventRows(unknown.callId)).toHaveLength(0);
    await expectCountersMatchRows(fixture.campaignId);
  });

  it('dead-letters a malformed message as invalid', async () => {
    const key = randomUUID();
    await send(['{"v":1,"kind":"status","eventId":"x"'], key);
    const letter = await eventually(
      () => h.collected.find((m) => m.topic === h.topics.deadLetter && m.key === key),
      'the dead letter',
    );
    const parsed = parseDeadLetterHeaders(letter.headers as KafkaHeaders);
    expect(parsed.ok && parsed.info.kind).toBe('invalid');
    expect(parsed.ok && parsed.info.error).toMatch(/^not JSON/);
  });
});

type FlowFields = {
  [S in TFlowEvent['step']]: Omit<Extract<TFlowEvent, { step: S }>, keyof FlowRef | 'kind'>;
}[TFlowEvent['step']];
type FlowRef = Omit<Extract<TFlowEvent, { step: 'error' }>, 'kind' | 'step' | 'error'>;

/** A flow event of the call's current attempt (or `attempt`), as the carrier ingress publishes it. */
function flowEvent(
  fixture: CampaignFixture,
  call: Call,
  fields: FlowFields,
  { attempt = call.attempts, attemptId = call.attemptId as string } = {},
): TFlowEvent {
  return {
    v: 1,
    kind: 'flow',
    eventId: `CA${call.id.slice(0, 8)}:${attempt}:flow:${fields.step}:${randomUUID().slice(0, 8)}`,
    tenantId: fixture.tenantId,
    campaignId: fixture.campaignId,
    callId: call.id,
    attemptId,
    attempt,
    providerCallId: `CA${attemptId.replace(/-/g, '').slice(0, 16)}`,
    flowVersion: 1,
    occurredAt: new Date().toISOString(),
    ...fields,
  } as TFlowEvent;
}

const keyPress = (
  call: Call,
  action: Extract<TFlowEvent, { step: 'key' }>['action'],
  more: Partial<Extract<TFlowEvent, { step: 'key' }>> = {},
): FlowFields => ({ step: 'key', offer: 1, action, phoneNumber: call.phoneNumber, ...more });

async function resultRow(callId: string) {
  return (
    await h.pool.query(
      `SELECT status::text AS status, attempts, current_attempt_id, skip_reason, answered_by::text AS answered_by,
              message_played, voicemail_left, answer_key, answer_label, opted_out_at, transfer_number,
              transfer_status::text AS transfer_status, transfer_duration_ms, flow_error, updated_at
       FROM calls WHERE id = $1`,
      [callId],
    )
  ).rows[0];
}

function suppressMessages(phoneNumber: string) {
  return h.collected
    .filter((m) => m.topic === h.topics.status)
    .map((m) => ({ key: m.key, decoded: decode(ZSuppressNumber, m.value) }))
    .flatMap((m) =>
      m.decoded.ok && m.decoded.message.phoneNumber === phoneNumber
        ? [{ ...m.decoded.message, key: m.key }]
        : [],
    );
}

async function listNumber(tenantId: string, phoneNumber: string) {
  await h.pool.query(
    `INSERT INTO do_not_call (tenant_id, phone_number, reason) VALUES ($1, $2, 'keypad opt-out')`,
    [tenantId, phoneNumber],
  );
}

describe('status worker: call flow events and opt-outs', () => {
  it('applies each flow event to its call: results, counters (calls, not events), history and live counters', async () => {
    const fixture = await createCampaign(h.db, {
      calls: Array.from({ length: 6 }, () => ({ status: 'IN_PROGRESS' as const })),
    });
    const [person, machine, optOut, transferred, unanswered, failed] = fixture.calls as Call[] as [
      Call,
      Call,
      Call,
      Call,
      Call,
      Call,
    ];
    await listNumber(fixture.tenantId, optOut.phoneNumber);
    const events = [
      flowEvent(fixture, person, { step: 'answered', answeredBy: 'HUMAN', played: 'MESSAGE' }),
      flowEvent(fixture, person, keyPress(person, 'NO_INPUT')),
      flowEvent(
        fixture,
        person,
        keyPress(person, 'RECORD_ANSWER', { offer: 2, key: '1', label: 'confirmed' }),
      ),
      flowEvent(fixture, machine, { step: 'answered', answeredBy: 'MACHINE', played: 'VOICEMAIL' }),
      flowEvent(fixture, optOut, { step: 'answered', answeredBy: 'UNKNOWN', played: 'MESSAGE' }),
      flowEvent(fixture, optOut, keyPress(optOut, 'OPT_OUT', { key: '9' })),
      flowEvent(
        fixture,
        transferred,
        keyPress(transferred, 'TRANSFER', { key: '2', transferTo: '+14155550199' }),
      ),
      flowEvent(fixture, transferred, { step: 'transfer', status: 'ANSWERED', durationMs: 42_000 }),
      flowEvent(
        fixture,
        unanswered,
        keyPress(unanswered, 'TRANSFER', { key: '2', transferTo: '+14155550199' }),
      ),
      flowEvent(fixture, unanswered, { step: 'transfer', status: 'NO_ANSWER' }),
      flowEvent(fixture, failed, { step: 'error', error: 'the carrier could not run the document (12100)' }),
    ];
    await send(events);
    await eventually(async () => (await resultRow(failed.id)).flow_error !== null, 'the batch applied');

    expect(await resultRow(person.id)).toMatchObject({
      status: 'IN_PROGRESS',
      answered_by: 'HUMAN',
      message_played: true,
      voicemail_left: false,
      answer_key: '1',
      answer_label: 'confirmed',
      opted_out_at: null,
    });
    expect(await resultRow(machine.id)).toMatchObject({
      answered_by: 'MACHINE',
      message_played: false,
      voicemail_left: true,
    });
    const optedOut = await resultRow(optOut.id);
    expect(optedOut).toMatchObject({ answered_by: 'UNKNOWN', message_played: true });
    expect(optedOut.opted_out_at).toEqual(new Date(events[5]?.occurredAt as string));
    expect(await resultRow(transferred.id)).toMatchObject({
      transfer_number: '+14155550199',
      transfer_status: 'ANSWERED',
      transfer_duration_ms: 42_000,
    });
    expect(await resultRow(unanswered.id)).toMatchObject({
      transfer_status: 'NO_ANSWER',
      transfer_duration_ms: null,
    });
    expect((await resultRow(failed.id)).flow_error).toBe('the carrier could not run the document (12100)');

    await expectCountersMatchRows(fixture.campaignId);
    const { counters, version } = await countersAndRows(h.pool, fixture.campaignId);
    expect(counters).toMatchObject({
      answeredByPerson: 2,
      answeredByMachine: 1,
      messagesPlayed: 2,
      voicemailsLeft: 1,
      optOuts: 1,
      transfers: 2,
      transfersAnswered: 1,
      flowErrors: 1,
      answers: { '1': 1 },
      inProgress: 6,
    });

    // The live counters of the commit carry them.
    const live = await eventually(() => {
      const updates = liveUpdates(fixture.campaignId).filter((u) => u.kind === 'counters');
      return updates.find((u) => u.version === version);
    }, 'the live counters');
    expect(live.kind === 'counters' && live.counters).toMatchObject({
      optOuts: 1,
      transfersAnswered: 1,
      answers: { '1': 1 },
    });

    // Every flow event in the history, once, with its type and readable detail.
    const history = await eventRows(person.id);
    expect(history.map((r) => `${r.event_type} ${r.detail}`).sort()).toEqual([
      'flow.answered answeredBy=HUMAN played=MESSAGE flow=1',
      'flow.key action=NO_INPUT offer=1 flow=1',
      'flow.key key=1 action=RECORD_ANSWER offer=2 label="confirmed" flow=1',
    ]);
    expect((await eventRows(optOut.id)).map((r) => r.detail)).toContain(
      'key=9 action=OPT_OUT offer=1 flow=1',
    );
    expect((await eventRows(transferred.id)).map((r) => [r.event_type, r.duration_ms])).toContainEqual([
      'flow.transfer',
      42_000,
    ]);
  });

  it('keeps counters equal to rows through a mixed batch with duplicates and redeliveries, history once', async () => {
    const fixture = await createCampaign(h.db, {
      calls: Array.from({ length: 8 }, () => ({ status: 'DIALING' as const })),
      retry: { maxAttempts: 1 },
    });
    const calls = fixture.calls as Call[];
    const batch: TStatusTopicMessage[] = calls.flatMap((call, i) => [
      event(fixture, call, 'answered'),
      flowEvent(fixture, call, {
        step: 'answered',
        answeredBy: i % 3 === 0 ? 'MACHINE' : 'HUMAN',
        played: i % 3 === 0 ? 'VOICEMAIL' : 'MESSAGE',
      }),
      ...(i % 3 === 0
        ? []
        : [
            flowEvent(
              fixture,
              call,
              keyPress(call, 'RECORD_ANSWER', { key: String(i % 2), label: `answer ${i % 2}` }),
            ),
          ]),
      event(fixture, call, 'completed', { outcome: 'ANSWERED', durationMs: 9000 }),
    ]);
    // Duplicates within the batch (the same event twice in a row), then the whole batch redelivered.
    const withDuplicates = batch.flatMap((m, i) => (i % 4 === 1 ? [m, m] : [m]));
    const duplicatesBefore = await metric('status_worker_events_duplicate_total');
    await send(withDuplicates);
    await eventually(
      async () => (await countersAndRows(h.pool, fixture.campaignId)).counters.completed === calls.length,
      'every call completed',
    );
    await send(batch);
    await eventually(
      async () =>
        (await metric('status_worker_events_duplicate_total')) >=
        duplicatesBefore + (withDuplicates.length - batch.length) + batch.length,
      'the redelivery found in the ledger',
    );

    await expectCountersMatchRows(fixture.campaignId);
    expect((await countersAndRows(h.pool, fixture.campaignId)).counters).toMatchObject({
      completed: 8,
      answeredByMachine: 3,
      answeredByPerson: 5,
      voicemailsLeft: 3,
      messagesPlayed: 5,
      answers: { '0': 2, '1': 3 },
    });
    for (const call of calls) {
      const ids = batch.filter((m) => m.kind !== 'suppress' && m.callId === call.id).map((m) => m.eventId);
      expect((await eventRows(call.id)).map((r) => r.event_id).sort()).toEqual(ids.sort());
    }
  });

  it('moves the count of an answer a later attempt changed', async () => {
    const fixture = await createCampaign(h.db, {
      calls: [{ status: 'IN_PROGRESS' }, { status: 'IN_PROGRESS' }],
      retry: { maxAttempts: 2, retryOn: ['BUSY'] },
    });
    const [call, other] = fixture.calls as [Call, Call];
    await send([
      flowEvent(fixture, call, keyPress(call, 'RECORD_ANSWER', { key: '1', label: 'yes' })),
      flowEvent(fixture, other, keyPress(other, 'RECORD_ANSWER', { key: '1', label: 'yes' })),
      // The first attempt ends with a retryable outcome (as if the carrier reported busy after the keypress).
      event(fixture, call, 'completed', { outcome: 'BUSY' }),
    ]);
    const retried = await eventually(async () => {
      const row = await resultRow(call.id);
      return row.status === 'RETRY_SCHEDULED' && row;
    }, 'the retry');
    expect((await countersAndRows(h.pool, fixture.campaignId)).counters.answers).toEqual({ '1': 2 });
    // The second attempt, dialled and answered: the recipient now presses 2.
    const second = { ...call, attemptId: retried.current_attempt_id as string, attempts: 2 };
    await h.pool.query(`UPDATE calls SET status = 'IN_PROGRESS' WHERE id = $1`, [call.id]);
    await h.pool.query(
      `UPDATE campaign_counters SET retry_scheduled = retry_scheduled - 1, in_progress = in_progress + 1
       WHERE campaign_id = $1`,
      [fixture.campaignId],
    );
    await send([flowEvent(fixture, second, keyPress(second, 'RECORD_ANSWER', { key: '2', label: 'no' }))]);
    await eventually(async () => (await resultRow(call.id)).answer_key === '2', 'the new answer');
    expect(await resultRow(call.id)).toMatchObject({ answer_key: '2', answer_label: 'no' });
    await expectCountersMatchRows(fixture.campaignId);
    expect((await countersAndRows(h.pool, fixture.campaignId)).counters.answers).toEqual({ '1': 1, '2': 1 });
  });

  it('ignores a flow event of an attempt the call never had', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'IN_PROGRESS' }, { status: 'DIALING' }] });
    const [call, marker] = fixture.calls as [Call, Call];
    const phantom = flowEvent(fixture, call, keyPress(call, 'OPT_OUT', { key: '9' }), {
      attempt: 2,
      attemptId: randomUUID(),
    });
    const before = await metric('status_worker_events_ignored_total', { reason: 'unknown-attempt' });
    await send([phantom, event(fixture, marker, 'ringing')]);
    await eventually(async () => (await callRow(h.pool, marker.id)).status === 'IN_PROGRESS', 'the marker');
    expect(await metric('status_worker_events_ignored_total', { reason: 'unknown-attempt' })).toBe(
      before + 1,
    );
    expect((await resultRow(call.id)).opted_out_at).toBeNull();
    expect(await eventRows(call.id)).toHaveLength(0);
    expect(suppressMessages(call.phoneNumber)).toEqual([]);
  });

  it("skips the opted-out number's waiting calls in every campaign of the tenant, not another tenant's nor a number off the list", async () => {
    const number = '+14155551001';
    const removed = '+14155551002';
    // Campaign A: the calls in which the recipients press 9. B and C: the same numbers waiting (PENDING, a retry
    // scheduled). D: another tenant's campaign calling the number.
    const a = await createCampaign(h.db, {
      calls: [
        { status: 'IN_PROGRESS', phoneNumber: number },
        { status: 'IN_PROGRESS', phoneNumber: removed },
      ],
    });
    const b = await createCampaign(h.db, {
      tenantId: a.tenantId,
      calls: [
        { status: 'PENDING', phoneNumber: number },
        { status: 'PENDING', phoneNumber: removed },
        { status: 'PENDING' },
      ],
    });
    const c = await createCampaign(h.db, {
      tenantId: a.tenantId,
      calls: [
        {
          status: 'RETRY_SCHEDULED',
          attempts: 2,
          phoneNumber: number,
          nextAttemptAt: new Date(Date.now() + 60_000),
        },
      ],
    });
    const d = await createCampaign(h.db, { calls: [{ status: 'PENDING', phoneNumber: number }] });
    const [optingOut, optingOutRemoved] = a.calls as [Call, Call];
    // The carrier ingress lists the number before it publishes the keypress; `removed` was taken off the list again
    // before the suppress messages were handled (here: never listed).
    await listNumber(a.tenantId, number);
    await listNumber(d.tenantId, number);
    const keypress = flowEvent(a, optingOut, keyPress(optingOut, 'OPT_OUT', { key: '9' }));
    await send([
      keypress,
      flowEvent(a, optingOutRemoved, keyPress(optingOutRemoved, 'OPT_OUT', { key: '9' })),
    ]);

    const [bCall, bRemoved, bOther] = b.calls as [Call, Call, Call];
    const cCall = c.calls[0] as Call;
    await eventually(
      async () =>
        (await resultRow(bCall.id)).status === 'SKIPPED' && (await resultRow(cCall.id)).status === 'SKIPPED',
      'the waiting calls skipped',
    );
    const reason = `opted out by keypad during call ${optingOut.id}`;
    expect(await resultRow(bCall.id)).toMatchObject({ skip_reason: reason, attempts: 0 });
    expect(await resultRow(cCall.id)).toMatchObject({
      skip_reason: reason,
      attempts: 1,
      current_attempt_id: null,
    });
    expect((await callRow(h.pool, cCall.id)).next_attempt_at).toBeNull();
    expect((await callRow(h.pool, cCall.id)).finished_at).toBeInstanceOf(Date);

    // One suppress message per campaign with a call waiting, keyed by it; none for A (its call is in progress) nor D.
    const sent = await eventually(() => {
      const found = suppressMessages(number);
      return found.length >= 2 && found;
    }, 'the suppress messages collected');
    expect(sent.map((m) => m.campaignId).sort()).toEqual([b.campaignId, c.campaignId].sort());
    for (const m of sent) expect(m).toMatchObject({ key: m.campaignId, tenantId: a.tenantId, reason });
    // The number taken off the list: its suppress message went to B and skipped nothing.
    await eventually(
      async () => (await metric('status_worker_events_ignored_total', { reason: 'not-listed' })) >= 1,
      'the suppress of the number off the list handled',
    );
    expect(
      (
        await eventually(
          () => suppressMessages(removed).length > 0 && suppressMessages(removed),
          'the suppress message of the number off the list',
        )
      ).map((m) => m.campaignId),
    ).toEqual([b.campaignId]);
    expect((await resultRow(bRemoved.id)).status).toBe('PENDING');
    expect((await resultRow(bOther.id)).status).toBe('PENDING');
    expect((await resultRow(d.calls[0]?.id as string)).status).toBe('PENDING');
    expect((await resultRow(optingOut.id)).status).toBe('IN_PROGRESS');
    for (const x of [a, b, c, d]) await expectCountersMatchRows(x.campaignId);
    expect((await countersAndRows(h.pool, a.campaignId)).counters.optOuts).toBe(2);
    expect((await countersAndRows(h.pool, b.campaignId)).counters).toMatchObject({ skipped: 1, pending: 2 });
    expect((await countersAndRows(h.pool, c.campaignId)).counters).toMatchObject({ skipped: 1, attempts: 1 });

    // The skipped calls' live updates went out.
    await eventually(
      () =>
        liveUpdates(c.campaignId)
          .flatMap((u) => (u.kind === 'calls' ? u.calls : []))
          .find((x) => x.callId === cCall.id && x.status === 'SKIPPED'),
      "C's live update",
    );
    // The keypress again (a redelivery): the ledger drops it, no second round of suppress messages.
    const optOuts = await metric('status_worker_opt_outs_total');
    await send([keypress]);
    await send([flowEvent(a, optingOutRemoved, { step: 'error', error: 'marker' })]);
    await eventually(
      async () => (await resultRow(optingOutRemoved.id)).flow_error === 'marker',
      'the marker',
    );
    expect(await metric('status_worker_opt_outs_total')).toBe(optOuts);
    expect(suppressMessages(number)).toHaveLength(2);
    expect((await eventRows(optingOut.id)).map((r) => r.event_id)).toEqual([keypress.eventId]);
  });

  it('dead-letters a flow event naming a call of another campaign while the rest applies', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'IN_PROGRESS' }] });
    const other = await createCampaign(h.db, { calls: [{ status: 'IN_PROGRESS' }] });
    const call = fixture.calls[0] as Call;
    const foreign = flowEvent(fixture, other.calls[0] as Call, keyPress(call, 'OPT_OUT', { key: '9' }));
    await send([
      foreign,
      flowEvent(fixture, call, { step: 'answered', answeredBy: 'HUMAN', played: 'MESSAGE' }),
    ]);
    const letter = await eventually(
      () => h.collected.find((m) => m.topic === h.topics.deadLetter && m.value.includes(foreign.eventId)),
      'the dead letter',
      30_000,
    );
    const parsed = parseDeadLetterHeaders(letter.headers as KafkaHeaders);
    expect(parsed.ok && parsed.info.error).toContain(`belongs to campaign ${other.campaignId}`);
    await eventually(
      async () => (await resultRow(call.id)).answered_by === 'HUMAN',
      'the other event applied',
    );
    expect((await resultRow(other.calls[0]?.id as string)).opted_out_at).toBeNull();
    await expectCountersMatchRows(fixture.campaignId);
    await expectCountersMatchRows(other.campaignId);
  });
});

function platformEventsOf(campaignId: string) {
  return h.collected
    .filter((m) => m.topic === h.topics.events && m.key === campaignId)
    .map((m) => {
      const decoded = decode(ZPlatformEvent, m.value);
      if (!decoded.ok) throw new Error(decoded.reason);
      return { ...decoded.message, traceId: traceIdOf(contextFromHeaders(m.headers as KafkaHeaders)) };
    });
}

describe('status worker: campaign.events', () => {
  it('announces an opt-out, each attempt ending and the finished call, in order, once, with the trace', async () => {
    const fixture = await createCampaign(h.db, {
      calls: [
        { status: 'IN_PROGRESS', attempts: 1 },
        { status: 'IN_PROGRESS', attempts: 3 },
      ],
      retry: { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 600_000 },
    });
    const [retried, last] = fixture.calls as [Call, Call];
    await listNumber(fixture.tenantId, last.phoneNumber);
    const parent = rootContext();
    const keypress = flowEvent(fixture, last, keyPress(last, 'OPT_OUT', { key: '9' }));
    const busy = event(fixture, retried, 'completed', { outcome: 'BUSY', detail: 'user busy' });
    const ended = event(fixture, last, 'completed', { outcome: 'ANSWERED', durationMs: 4200 });
    await send([busy, keypress, ended], undefined, parent);

    const events = await eventually(() => {
      const found = platformEventsOf(fixture.campaignId);
      return found.length >= 4 && found;
    }, 'the campaign events');
    expect(events.map((e) => [e.kind, 'callId' in e ? e.callId : null])).toEqual([
      ['call.attempt_ended', retried.id],
      ['number.opted_out', last.id],
      ['call.attempt_ended', last.id],
      ['call.finished', last.id],
    ]);
    const row = await callRow(h.pool, retried.id);
    expect(events[0]).toMatchObject({
      eventId: `attempt-ended:${retried.attemptId}`,
      tenantId: fixture.tenantId,
      phoneNumber: retried.phoneNumber,
      attempt: 1,
      outcome: 'BUSY',
      detail: 'user busy',
      callStatus: 'RETRY_SCHEDULED',
      nextAttemptAt: row.next_attempt_at?.toISOString(),
    });
    expect(events[1]).toMatchObject({
      eventId: `opted-out:${keypress.eventId}`,
      phoneNumber: last.phoneNumber,
      key: '9',
    });
    expect(events[2]).toMatchObject({ outcome: 'ANSWERED', durationMs: 4200, callStatus: 'COMPLETED' });
    expect(events[3]).toMatchObject({
      eventId: `call-finished:${last.id}`,
      status: 'COMPLETED',
      attempts: 3,
      lastOutcome: 'ANSWERED',
      reason: null,
      result: { optedOut: true, answerKey: null },
    });
    for (const e of events) expect(e.traceId).toBe(traceIdOf(parent));
    // The commit of the call's final status, in the trace of its event: send → process → commit status.
    // (The events are sent before the commit: the span is awaited.)
    const commit = await eventually(
      () =>
        capture
          .spans()
          .find(
            (s) =>
              s.name === 'commit status' &&
              s.attributes['outbound.call.id'] === last.id &&
              s.attributes['outbound.status.event'] === 'completed',
          ),
      'the commit span of the final status',
    );
    expect(commit?.spanContext().traceId).toBe(traceIdOf(parent));
    expect(commit?.attributes).toMatchObject({
      'outbound.call.status': 'COMPLETED',
      'outbound.call.finished': true,
    });
    // (A process span ends when its batch's offsets are committed, after the transaction.)
    const processed = await eventually(
      () => capture.spans().find((s) => s.spanContext().spanId === parentSpanIdOf(commit)),
      'the process span of the final status',
    );
    expect(processed?.name).toBe(`process ${h.topics.status}`);
    const sent = capture.spans().find((s) => s.spanContext().spanId === parentSpanIdOf(processed));
    expect(sent?.name).toBe(`send ${h.topics.status}`);

    // The same events again (the carrier retried its callbacks): already applied, nothing more is announced.
    const stale = await metric('status_worker_events_ignored_total', { reason: 'stale-attempt' });
    await send([busy, keypress, ended]);
    // Then an ending of an attempt the call is not on (ignored): once it was handled, so were the copies before it.
    await send([event(fixture, retried, 'completed', { outcome: 'ANSWERED', attemptId: randomUUID() })]);
    await eventually(
      async () => (await metric('status_worker_events_ignored_total', { reason: 'stale-attempt' })) > stale,
      'the later batch handled',
    );
    expect(platformEventsOf(fixture.campaignId)).toHaveLength(4);
  });
});
