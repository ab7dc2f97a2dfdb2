import { randomUUID } from 'node:crypto';
import type { Context } from '@opentelemetry/api';
import {
  contextFromHeaders,
  decode,
  encode,
  type KafkaHeaders,
  type TRetry,
  traceHeaders,
  traceIdOf,
  ZDispatch,
} from '@outbound/contracts';
import { inTransaction } from '@outbound/db';
import { createMetricsRegistry } from '@outbound/observability';
import { type CapturedSpans, captureSpans, rootContext } from '@outbound/observability/testing';
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
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRetryWorker, type RetryWorker } from './retry-worker.ts';

let h: Harness;
let registry: Registry;
let worker: RetryWorker;
/** Telemetry on for this file (in memory): a retry's trace goes on in its dispatch. */
let capture: CapturedSpans;

beforeAll(async () => {
  capture = captureSpans();
  h = await createHarness('retry');
  registry = createMetricsRegistry('retry-worker-test');
  worker = createRetryWorker({
    kafka: h.kafka,
    producer: h.producer,
    topics: h.topics,
    pool: h.pool,
    logger: testLogger,
    registry,
    groupId: h.groupId('retry-worker'),
    consumer: { maxWaitTimeInMs: 100, retryableBackoffMs: { initial: 100, max: 500 } },
  });
  await Promise.all([worker.start(), h.collect([h.topics.dispatch, h.topics.deadLetter])]);
  await eventually(() => worker.isReady(), 'the worker to join its group');
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await h?.cleanup();
  await capture?.stop();
}, 60_000);

type Call = CampaignFixture['calls'][number];

function retry(
  fixture: CampaignFixture,
  call: Call,
  dueAt: Date,
  attemptId = call.attemptId as string,
): TRetry {
  return {
    v: 1,
    kind: 'retry',
    tenantId: fixture.tenantId,
    campaignId: fixture.campaignId,
    callId: call.id,
    attemptId,
    attempt: call.attempts,
    phoneNumber: call.phoneNumber,
    callerId: '+442079460000',
    timezone: call.timezone,
    fencingToken: 0,
    queuedAt: new Date().toISOString(),
    dueAt: dueAt.toISOString(),
  };
}

async function send(
  messages: TRetry[],
  { partition, parent = rootContext() }: { partition?: number; parent?: Context } = {},
) {
  await h.producer.send(
    h.topics.retry[0] as string,
    messages.map((m) => ({
      key: m.campaignId,
      value: encode(m),
      headers: traceHeaders(parent),
      ...(partition !== undefined && { partition }),
    })),
  );
}

function dispatchesOf(callId: string) {
  return h.collected
    .filter((m) => m.topic === h.topics.dispatch)
    .map((m) => ({ ...m, decoded: decode(ZDispatch, m.value) }))
    .flatMap((m) =>
      m.decoded.ok && m.decoded.message.callId === callId ? [{ ...m, dispatch: m.decoded.message }] : [],
    );
}

async function metric(name: string): Promise<number> {
  const found = (await registry.getSingleMetric(name)?.get())?.values ?? [];
  return found.reduce((sum, v) => sum + v.value, 0);
}

async function expectCountersMatchRows(campaignId: string) {
  const { counters, rows } = await countersAndRows(h.pool, campaignId);
  expect(counters).toEqual(rows);
}

const retryScheduled = { status: 'RETRY_SCHEDULED', attempts: 2 } as const;

describe('retry worker', () => {
  it('queues a due retry and dispatches it with the same attempt id and trace', async () => {
    const fixture = await createCampaign(h.db, { calls: [retryScheduled] });
    const call = fixture.calls[0] as Call;
    const parent = rootContext();
    await send([retry(fixture, call, new Date(Date.now() - 1000))], { parent });
    const [message] = await eventually(() => {
      const found = dispatchesOf(call.id);
      return found.length > 0 && found;
    }, 'the dispatch');
    expect(message?.key).toBe(fixture.campaignId);
    expect(message?.dispatch).toMatchObject({
      kind: 'dispatch',
      callId: call.id,
      attemptId: call.attemptId,
      attempt: 2,
      phoneNumber: call.phoneNumber,
    });
    expect(traceIdOf(contextFromHeaders(message?.headers as KafkaHeaders))).toBe(traceIdOf(parent));
    await eventually(async () => (await callRow(h.pool, call.id)).status === 'QUEUED', 'QUEUED');
    expect(await callRow(h.pool, call.id)).toMatchObject({
      attempts: 2,
      current_attempt_id: call.attemptId,
      next_attempt_at: null,
    });
    await expectCountersMatchRows(fixture.campaignId);
    expect((await countersAndRows(h.pool, fixture.campaignId)).counters).toMatchObject({
      queued: 1,
      retryScheduled: 0,
    });
  });

  it('holds a retry until it is due, while a due one on another partition of the topic goes through', async () => {
    const fixture = await createCampaign(h.db, { calls: [retryScheduled, retryScheduled] });
    const [later, now] = fixture.calls as [Call, Call];
    const dueAt = new Date(Date.now() + 1500);
    await send([retry(fixture, later, dueAt)], { partition: 0 });
    await send([retry(fixture, now, new Date())], { partition: 1 });

    const [first] = await eventually(() => {
      const found = dispatchesOf(now.id);
      return found.length > 0 && found;
    }, 'the due dispatch');
    expect(first?.receivedAt).toBeLessThan(dueAt.getTime());
    expect(dispatchesOf(later.id)).toEqual([]);
    expect((await callRow(h.pool, later.id)).status).toBe('RETRY_SCHEDULED');

    const [held] = await eventually(
      () => {
        const found = dispatchesOf(later.id);
        return found.length > 0 && found;
      },
      'the dispatch once due',
      10_000,
    );
    expect(held?.receivedAt).toBeGreaterThanOrEqual(dueAt.getTime());
    expect(held?.receivedAt).toBeLessThan(dueAt.getTime() + 5000);
    expect(Date.parse(held?.dispatch.queuedAt as string)).toBeGreaterThanOrEqual(dueAt.getTime());
    expect(dispatchesOf(later.id)).toHaveLength(1);
    await eventually(async () => (await callRow(h.pool, later.id)).status === 'QUEUED', 'QUEUED');
    await expectCountersMatchRows(fixture.campaignId);
  });

  it('looks again at a retry read before the status worker committed its call as RETRY_SCHEDULED', async () => {
    // The status worker produces the retry (attempt 2, a new attempt id) before its transaction commits: read in
    // that moment, the call is still IN_PROGRESS on attempt 1. It must not be dropped (the scheduler's sweep would
    // send it 30 s later).
    const fixture = await createCampaign(h.db, { calls: [{ status: 'IN_PROGRESS', attempts: 1 }] });
    const call = fixture.calls[0] as Call;
    const attemptId = randomUUID();
    const earlyBefore = await metric('retry_worker_early_reads_total');
    await send([{ ...retry(fixture, call, new Date(Date.now() - 1000), attemptId), attempt: 2 }]);
    await eventually(
      async () => (await metric('retry_worker_early_reads_total')) > earlyBefore,
      'the retry read early',
    );
    expect(dispatchesOf(call.id)).toEqual([]);
    await inTransaction(h.pool, async (client) => {
      await client.query(
        `UPDATE calls SET status = 'RETRY_SCHEDULED', attempts = 2, current_attempt_id = $2, next_attempt_at = now(),
           updated_at = now()
         WHERE id = $1`,
        [call.id, attemptId],
      );
      await client.query(
        `UPDATE campaign_counters SET in_progress = in_progress - 1, retry_scheduled = retry_scheduled + 1,
           attempts = attempts + 1
         WHERE campaign_id = $1`,
        [fixture.campaignId],
      );
    });
    const committedAt = Date.now();
    const [message] = await eventually(() => {
      const found = dispatchesOf(call.id);
      return found.length > 0 && found;
    }, 'the dispatch after the commit');
    expect(message?.receivedAt).toBeLessThan(committedAt + 5000);
    expect(message?.dispatch).toMatchObject({ callId: call.id, attemptId, attempt: 2 });
    await eventually(async () => (await callRow(h.pool, call.id)).status === 'QUEUED', 'QUEUED');
    await expectCountersMatchRows(fixture.campaignId);
  });

  it('skips a retry whose attempt is no longer the current one', async () => {
    const fixture = await createCampaign(h.db, { calls: [retryScheduled, retryScheduled] });
    const [stale, marker] = fixture.calls as [Call, Call];
    const skippedBefore = await metric('retry_worker_retries_skipped_total');
    const past = new Date(Date.now() - 1000);
    await send([retry(fixture, stale, past, randomUUID()), retry(fixture, marker, past)]);
    await eventually(() => dispatchesOf(marker.id).length > 0, 'the marker dispatch');
    // Same key, same dispatch partition: a dispatch of the stale retry would have come first.
    expect(dispatchesOf(stale.id)).toEqual([]);
    expect(await metric('retry_worker_retries_skipped_total')).toBe(skippedBefore + 1);
    expect(await callRow(h.pool, stale.id)).toMatchObject({
      status: 'RETRY_SCHEDULED',
      attempts: 2,
      current_attempt_id: stale.attemptId,
    });
    await expectCountersMatchRows(fixture.campaignId);
  });

  it('gives the attempt back to a paused campaign: PENDING, attempts - 1, no attempt id, no dispatch', async () => {
    const fixture = await createCampaign(h.db, { status: 'PAUSED', calls: [retryScheduled] });
    const call = fixture.calls[0] as Call;
    await send([retry(fixture, call, new Date(Date.now() - 1000))]);
    await eventually(async () => (await callRow(h.pool, call.id)).status === 'PENDING', 'PENDING');
    expect(await callRow(h.pool, call.id)).toMatchObject({
      attempts: 1,
      current_attempt_id: null,
      next_attempt_at: null,
    });
    expect(dispatchesOf(call.id)).toEqual([]);
    await expectCountersMatchRows(fixture.campaignId);
    expect((await countersAndRows(h.pool, fixture.campaignId)).counters).toMatchObject({
      pending: 1,
      retryScheduled: 0,
      attempts: 1,
    });
  });

  it('ends the call of a cancelled campaign (a retry that raced the cancel): CANCELLED, no dispatch', async () => {
    const fixture = await createCampaign(h.db, { status: 'CANCELLED', calls: [retryScheduled] });
    const call = fixture.calls[0] as Call;
    await send([retry(fixture, call, new Date(Date.now() - 1000))]);
    await eventually(async () => (await callRow(h.pool, call.id)).status === 'CANCELLED', 'CANCELLED');
    expect(await callRow(h.pool, call.id)).toMatchObject({
      attempts: 1,
      current_attempt_id: null,
      next_attempt_at: null,
    });
    expect(dispatchesOf(call.id)).toEqual([]);
    await expectCountersMatchRows(fixture.campaignId);
    expect((await countersAndRows(h.pool, fixture.campaignId)).counters).toMatchObject({
      cancelled: 1,
      retryScheduled: 0,
      attempts: 1,
    });
  });

  it('changes nothing for the retry of a call skipped meanwhile (an opt-out): no dispatch, the attempt stays given back', async () => {
    const fixture = await createCampaign(h.db, { calls: [retryScheduled, retryScheduled] });
    const [skipped, marker] = fixture.calls as [Call, Call];
    // As the status worker leaves a RETRY_SCHEDULED call whose number opted out: SKIPPED, the scheduled attempt given
    // back (attempts - 1, attempt id cleared), counters with it; its retry message is still in Kafka.
    const reason = `opted out by keypad during call ${randomUUID()}`;
    await h.pool.query(
      `UPDATE calls SET status = 'SKIPPED', attempts = attempts - 1, current_attempt_id = NULL, next_attempt_at = NULL,
              skip_reason = $2, finished_at = now() WHERE id = $1`,
      [skipped.id, reason],
    );
    await h.pool.query(
      `UPDATE campaign_counters SET retry_scheduled = retry_scheduled - 1, skipped = skipped + 1,
              attempts = attempts - 1 WHERE campaign_id = $1`,
      [fixture.campaignId],
    );
    const skippedBefore = await metric('retry_worker_retries_skipped_total');
    const past = new Date(Date.now() - 1000);
    await send([retry(fixture, skipped, past), retry(fixture, marker, past)]);
    await eventually(() => dispatchesOf(marker.id).length > 0, 'the marker dispatch');
    // Same key, same dispatch partition: a dispatch of the skipped call's retry would have come first.
    expect(dispatchesOf(skipped.id)).toEqual([]);
    expect(await metric('retry_worker_retries_skipped_total')).toBe(skippedBefore + 1);
    expect(await callRow(h.pool, skipped.id)).toMatchObject({
      status: 'SKIPPED',
      attempts: 1,
      current_attempt_id: null,
      next_attempt_at: null,
    });
    await expectCountersMatchRows(fixture.campaignId);
  });
});
