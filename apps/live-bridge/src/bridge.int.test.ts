// The live bridge against real Kafka, PostgreSQL and Redis: what it publishes is read by a plain Redis subscriber.

import { parseEnv, redisEnv } from '@outbound/config';
import { encode, type TCountersUpdate, ZCampaignCounters } from '@outbound/contracts';
import { liveChannels } from '@outbound/live';
import { createCampaign, createHarness, eventually, type Harness, testLogger } from '@outbound/testing';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveBridge, type LiveBridge } from './bridge.ts';

let h: Harness;
let redis: Redis;
let subscriber: Redis;
let bridge: LiveBridge;
const heard: { channel: string; payload: Record<string, unknown> }[] = [];

beforeAll(async () => {
  h = await createHarness('live_bridge');
  const url = parseEnv(redisEnv, process.env).REDIS_URL;
  redis = new Redis(url);
  subscriber = new Redis(url);
  subscriber.on('pmessage', (_pattern: string, channel: string, message: string) => {
    heard.push({ channel, payload: JSON.parse(message) });
  });
  await subscriber.psubscribe('live:*');
  bridge = createLiveBridge({
    kafka: h.kafka,
    producer: h.producer,
    topics: h.topics,
    groupId: h.groupId('live-bridge'),
    pool: h.pool,
    redis,
    logger: testLogger,
    registry: new Registry(),
    flushMs: 200,
    sweepMs: 300,
  });
  await bridge.start();
  await eventually(() => bridge.isReady(), 'the bridge to join its group');
  // A new group starts at the end of the topic, once it has looked the end up: until a first message comes
  // through, something produced now could fall before that point.
  const warmUp = await createCampaign(h.db, { calls: [{ status: 'PENDING' }] });
  await eventually(async () => {
    await h.producer.send(h.topics.live, [
      { key: warmUp.campaignId, value: encode(counters(warmUp.tenantId, warmUp.campaignId, 500, 0)) },
    ]);
    return heard.some((m) => m.payload.campaignId === warmUp.campaignId && m.payload.version === 500);
  }, 'a first message through the bridge');
}, 90_000);

afterAll(async () => {
  await bridge?.stop();
  subscriber?.disconnect();
  redis?.disconnect();
  await h?.cleanup();
}, 60_000);

function counters(tenantId: string, campaignId: string, version: number, completed: number): TCountersUpdate {
  return {
    v: 1,
    kind: 'counters',
    tenantId,
    campaignId,
    version,
    // Parsed: the call flow counters (not under test here) take their defaults.
    counters: ZCampaignCounters.parse({
      total: 1000,
      pending: 1000 - completed,
      queued: 0,
      dialing: 0,
      inProgress: 0,
      retryScheduled: 0,
      completed,
      failed: 0,
      skipped: 0,
      cancelled: 0,
      attempts: completed,
    }),
    at: new Date().toISOString(),
  };
}

const heardOn = (channel: string) => heard.filter((m) => m.channel === channel).map((m) => m.payload);

describe('live bridge', () => {
  it('coalesces a burst of counters to few messages with growing versions, ending at the newest', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'PENDING' }] });
    const { tenantId, campaignId } = fixture;
    // The fixture's counters are at version 0; the burst goes far above so the sweep has nothing newer.
    const burst = Array.from({ length: 300 }, (_, i) => counters(tenantId, campaignId, 1000 + i, i));
    // Out of order inside the burst too: an older snapshot after a newer one must not be published.
    burst.splice(150, 0, counters(tenantId, campaignId, 1010, 10));
    await h.producer.send(
      h.topics.live,
      burst.map((u) => ({ key: campaignId, value: encode(u) })),
    );
    const campaignChannel = liveChannels.campaignCounters(campaignId);
    await eventually(
      () => heardOn(campaignChannel).some((p) => p.version === 1299),
      'the newest version published',
    );
    const versions = heardOn(campaignChannel).map((p) => p.version as number);
    expect(versions.length).toBeLessThan(50);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect(new Set(versions).size).toBe(versions.length);
    // The tenant's wallboard channel gets the same snapshots.
    expect(heardOn(liveChannels.tenantCounters(tenantId)).map((p) => p.version)).toEqual(versions);
  });

  it('publishes counters changed in PostgreSQL by other writers (the sweep)', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'PENDING' }] });
    // What a claim or a cancel does: the counters move, nothing goes to the live topic.
    const updated = await h.pool.query(
      `UPDATE campaign_counters SET pending = pending - 1, queued = queued + 1, version = version + 1,
       updated_at = now() WHERE campaign_id = $1 RETURNING version`,
      [fixture.campaignId],
    );
    const version = Number(updated.rows[0].version);
    const message = await eventually(
      () => heardOn(liveChannels.campaignCounters(fixture.campaignId)).find((p) => p.version === version),
      'the swept counters',
    );
    expect(message).toMatchObject({ kind: 'counters', tenantId: fixture.tenantId, counters: { queued: 1 } });
  });

  it('relays changed calls, the newest state of each', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'DIALING' }] });
    const callId = fixture.calls[0]?.id as string;
    const change = (status: string, at: number) => ({
      v: 1 as const,
      kind: 'calls' as const,
      tenantId: fixture.tenantId,
      campaignId: fixture.campaignId,
      calls: [
        {
          callId,
          status,
          attempts: 1,
          lastOutcome: status === 'COMPLETED' ? 'ANSWERED' : null,
          updatedAt: new Date(at).toISOString(),
        },
      ],
    });
    const now = Date.now();
    await h.producer.send(h.topics.live, [
      { key: fixture.campaignId, value: encode(change('IN_PROGRESS', now) as never) },
      { key: fixture.campaignId, value: encode(change('COMPLETED', now + 5) as never) },
    ]);
    const channel = liveChannels.campaignCalls(fixture.campaignId);
    await eventually(
      () =>
        heardOn(channel).some((p) => (p.calls as { status: string }[]).some((c) => c.status === 'COMPLETED')),
      'the call change',
    );
    const statuses = heardOn(channel).flatMap((p) => (p.calls as { status: string }[]).map((c) => c.status));
    expect(statuses.at(-1)).toBe('COMPLETED');
  });
});
