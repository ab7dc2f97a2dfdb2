// Subscriptions over graphql-ws against a real gateway, PostgreSQL and Redis. What the live bridge publishes is
// published here directly on Redis (the bridge has its own tests), so each case controls the order of events.
import { randomUUID } from 'node:crypto';
import { type TCampaignCounters, type TCountersUpdate, ZCampaignCounters } from '@outbound/contracts';
import { liveChannels, publishLive } from '@outbound/live';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignRow, globalId } from './testing/campaign-fixtures.ts';
import {
  createTenant,
  gql,
  Role,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';
import { openSocket, subscribe } from './testing/live-client.ts';

let t: TestGateway;
let publisher: Redis;
let a: TestTenant;
let b: TestTenant;
const clients: Client[] = [];

beforeAll(async () => {
  t = await startTestGateway({ GRAPHQL_WS_MAX_SUBSCRIPTIONS: '3', GRAPHQL_WS_KEEPALIVE_MS: '2000' });
  publisher = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:26379');
  [a, b] = await Promise.all([createTenant(t, 'Live A'), createTenant(t, 'Live B')]);
});

afterAll(async () => {
  for (const c of clients) await c.dispose();
  publisher?.disconnect();
  await t?.stop();
});

/** A socket of this file's gateway (or `url`'s), closed after the file. */
function connect(authorization: string | null, url = t.url) {
  const socket = openSocket(url, authorization);
  clients.push(socket.client);
  return socket;
}

/** Waits until a gateway listens to `channel` (a subscription without a first result has no other sign). */
async function subscribed(channel: string): Promise<void> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const [, count] = (await publisher.pubsub('NUMSUB', channel)) as [string, number];
    if (Number(count) > 0) return;
    if (Date.now() > deadline) throw new Error(`nobody subscribed to ${channel}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function runningCampaign(tenant: TestTenant, counters: Partial<Record<string, number>> = {}) {
  const campaign = await t.db.campaign.create({
    data: {
      ...campaignRow(tenant.id, `Live ${randomUUID().slice(0, 6)}`, 'RUNNING'),
      counters: { create: { tenantId: tenant.id, total: 10, pending: 10, version: 5n, ...counters } },
    },
  });
  return campaign.id;
}

function countersUpdate(
  tenantId: string,
  campaignId: string,
  version: number,
  completed: number,
  flow: Partial<TCampaignCounters> = {},
): TCountersUpdate {
  return {
    v: 1,
    kind: 'counters',
    tenantId,
    campaignId,
    version,
    counters: {
      total: 10,
      pending: 10 - completed,
      queued: 0,
      dialing: 0,
      inProgress: 0,
      retryScheduled: 0,
      completed,
      failed: 0,
      skipped: 0,
      cancelled: 0,
      attempts: completed,
      // The call flow counters, as a producer that omits them is read (their defaults).
      ...ZCampaignCounters.pick({
        answeredByPerson: true,
        answeredByMachine: true,
        messagesPlayed: true,
        voicemailsLeft: true,
        optOuts: true,
        transfers: true,
        transfersAnswered: true,
        flowErrors: true,
        answers: true,
        outcomeAnswered: true,
        outcomeBusy: true,
        outcomeNoAnswer: true,
        outcomeFailed: true,
        outcomeVoicemail: true,
        outcomeRejected: true,
        outcomeCanceled: true,
        talkMs: true,
        talked: true,
      }).parse({}),
      ...flow,
    },
    at: new Date().toISOString(),
  };
}

const STATS = `subscription($id: ID!) { campaignStats(campaignId: $id) { campaignId version completed pending progress } }`;

describe('subscriptions (graphql-ws)', () => {
  it('refuses a socket without a valid credential', async () => {
    const anonymous = connect(null);
    expect((await anonymous.whenClosed).code).toBe(4403);
    const forged = connect('obk_nope_nope');
    expect((await forged.whenClosed).code).toBe(4403);
  });

  it('campaignStats: the current counters first, then only newer versions', async () => {
    const id = await runningCampaign(a);
    const { client } = connect(a.apiKeys[Role.VIEWER]);
    const s = subscribe<{ campaignStats: { campaignId: string; version: string; completed: number } }>(
      client,
      STATS,
      { id: globalId('Campaign', id) },
    );
    await s.until(1, 'the snapshot');
    expect(s.results[0]?.campaignStats).toMatchObject({
      campaignId: globalId('Campaign', id),
      version: '5',
      completed: 0,
    });

    const channel = liveChannels.campaignCounters(id);
    await publishLive(publisher, [
      { channel, payload: countersUpdate(a.id, id, 4, 99) }, // older than the snapshot: dropped
      { channel, payload: countersUpdate(a.id, id, 7, 3) },
      { channel, payload: countersUpdate(a.id, id, 6, 2) }, // arrived late: dropped
      { channel, payload: countersUpdate(a.id, id, 8, 4) },
    ]);
    await s.until(3, 'two updates');
    expect(s.results.map((r) => [r.campaignStats.version, r.campaignStats.completed])).toEqual([
      ['5', 0],
      ['7', 3],
      ['8', 4],
    ]);
    expect(s.error).toBeNull();
  });

  it("campaignStats: the call flow counters, and answers per key labelled from the campaign's current flow", async () => {
    const id = await runningCampaign(a, { completed: 0 });
    // The campaign's current flow records answers on keys 1 and 2; the counters already hold answers.
    await t.db
      .$executeRaw`INSERT INTO call_flows (campaign_id, version, flow) VALUES (${id}::uuid, 1, ${JSON.stringify(
      {
        menu: {
          keys: [
            { key: '1', action: 'RECORD_ANSWER', label: 'confirmed' },
            { key: '2', action: 'RECORD_ANSWER', label: 'reschedule' },
            { key: '9', action: 'OPT_OUT', confirmation: 'Done.' },
          ],
        },
      },
    )}::jsonb)`;
    await t.db.campaign.update({ where: { id }, data: { flowVersion: 1 } });
    await t.db.campaignCounters.update({
      where: { campaignId: id },
      data: { optOuts: 1, answers: { '2': 1 } },
    });
    const { client } = connect(a.apiKeys[Role.VIEWER]);
    type Stats = {
      campaignStats: {
        version: string;
        optOuts: number;
        transfersAnswered: number;
        voicemailsLeft: number;
        answers: { key: string; label: string | null; calls: number }[];
      };
    };
    const s = subscribe<Stats>(
      client,
      `subscription($id: ID!) { campaignStats(campaignId: $id) {
        version optOuts transfersAnswered voicemailsLeft answers { key label calls } } }`,
      { id: globalId('Campaign', id) },
    );
    await s.until(1, 'the snapshot');
    expect(s.results[0]?.campaignStats).toMatchObject({
      optOuts: 1,
      answers: [{ key: '2', label: 'reschedule', calls: 1 }],
    });
    await publishLive(publisher, [
      {
        channel: liveChannels.campaignCounters(id),
        payload: countersUpdate(a.id, id, 9, 3, {
          optOuts: 2,
          transfersAnswered: 1,
          voicemailsLeft: 4,
          // Key 3 is not in the flow (an earlier version had it); key 1's calls all moved to key 2.
          answers: { '3': 1, '2': 2, '1': 0 },
        }),
      },
    ]);
    await s.until(2, 'the update');
    expect(s.results[1]?.campaignStats).toEqual({
      version: '9',
      optOuts: 2,
      transfersAnswered: 1,
      voicemailsLeft: 4,
      answers: [
        { key: '2', label: 'reschedule', calls: 2 },
        { key: '3', label: null, calls: 1 },
      ],
    });
    expect(s.error).toBeNull();
  });

  it("keeps tenants apart: B cannot subscribe to A's campaign, and hears nothing of it", async () => {
    const id = await runningCampaign(a);
    const { client } = connect(b.apiKeys[Role.ADMIN]);
    const s = subscribe(client, STATS, { id: globalId('Campaign', id) });
    await s.until(1);
    expect(JSON.stringify(s.error)).toContain('campaign not found');
    const wall = subscribe<{ wallboard: { campaignId: string } }>(
      client,
      'subscription { wallboard { campaignId version } }',
    );
    await subscribed(liveChannels.tenantCounters(b.id));
    await publishLive(publisher, [
      { channel: liveChannels.tenantCounters(a.id), payload: countersUpdate(a.id, id, 9, 1) },
    ]);
    // B's wallboard has B's campaigns only (none): it stays silent while A's counters move.
    const other = await runningCampaign(b);
    await publishLive(publisher, [
      { channel: liveChannels.tenantCounters(b.id), payload: countersUpdate(b.id, other, 6, 1) },
    ]);
    await wall.until(1);
    // B's own campaign only: its update, and also its first counters when the wallboard's opening read (which may
    // still be under way when B's campaign starts) already finds it. Nothing of A's, which was published first.
    expect(new Set(wall.results.map((r) => r.wallboard.campaignId))).toEqual(
      new Set([globalId('Campaign', other)]),
    );
  });

  it('wallboard: every running campaign of the tenant first, then changes', async () => {
    const tenant = await createTenant(t, 'Wall');
    const [one, two] = [await runningCampaign(tenant), await runningCampaign(tenant)];
    const { client } = connect(tenant.apiKeys[Role.VIEWER]);
    const wall = subscribe<{ wallboard: { campaignId: string; version: string } }>(
      client,
      'subscription { wallboard { campaignId version completed } }',
    );
    await wall.until(2, 'both snapshots');
    expect(new Set(wall.results.map((r) => r.wallboard.campaignId))).toEqual(
      new Set([globalId('Campaign', one), globalId('Campaign', two)]),
    );
    await publishLive(publisher, [
      { channel: liveChannels.tenantCounters(tenant.id), payload: countersUpdate(tenant.id, two, 6, 1) },
    ]);
    await wall.until(3);
    expect(wall.results[2]?.wallboard).toMatchObject({ campaignId: globalId('Campaign', two), version: '6' });
  });

  it('callUpdates: changed calls, filtered by status', async () => {
    const id = await runningCampaign(a);
    const { client } = connect(a.tokens[Role.OPERATOR]);
    const s = subscribe<{ callUpdates: { status: string; attempts: number } }>(
      client,
      'subscription($id: ID!) { callUpdates(campaignId: $id, statuses: [FAILED, COMPLETED]) { call status attempts lastOutcome } }',
      { id: globalId('Campaign', id) },
    );
    await subscribed(liveChannels.campaignCalls(id));
    const change = (status: string) => ({
      callId: randomUUID(),
      status,
      attempts: 1,
      lastOutcome: status === 'COMPLETED' ? 'ANSWERED' : null,
      updatedAt: new Date().toISOString(),
    });
    await publishLive(publisher, [
      {
        channel: liveChannels.campaignCalls(id),
        payload: {
          v: 1,
          kind: 'calls',
          tenantId: a.id,
          campaignId: id,
          calls: [change('IN_PROGRESS'), change('COMPLETED'), change('DIALING'), change('FAILED')] as never,
        },
      },
    ]);
    await s.until(2);
    expect(s.results.map((r) => r.callUpdates.status)).toEqual(['COMPLETED', 'FAILED']);
  });

  it("campaignUpdates: a campaign's status as operators change it, newest revision only, own tenant only", async () => {
    const id = await runningCampaign(a);
    const ownWatcher = subscribe<{ campaignUpdates: { campaign: string; status: string; revision: number } }>(
      connect(a.apiKeys[Role.VIEWER]).client,
      'subscription { campaignUpdates { campaign status revision updatedAt } }',
    );
    const otherWatcher = subscribe<{ campaignUpdates: { campaign: string } }>(
      connect(b.apiKeys[Role.VIEWER]).client,
      'subscription { campaignUpdates { campaign status } }',
    );
    await subscribed(liveChannels.tenantCampaigns(a.id));
    await subscribed(liveChannels.tenantCampaigns(b.id));
    const command = async (name: string) => {
      const res = await gql<Record<string, { status: string }>>(
        t.url,
        `mutation($id: ID!) { ${name}(id: $id) { ... on Campaign { status } } }`,
        { id: globalId('Campaign', id) },
        { auth: a.tokens[Role.OPERATOR] },
      );
      expect(res.body.errors).toBeUndefined();
    };
    await command('pauseCampaign');
    await command('resumeCampaign');
    await ownWatcher.until(2, 'pause and resume');
    expect(ownWatcher.results.map((r) => r.campaignUpdates)).toEqual([
      { campaign: globalId('Campaign', id), status: 'PAUSED', revision: 1, updatedAt: expect.any(String) },
      { campaign: globalId('Campaign', id), status: 'RUNNING', revision: 2, updatedAt: expect.any(String) },
    ]);
    // A late, older announcement (another gateway's, delayed) changes nothing; the next newer one arrives.
    const stale = { kind: 'campaign' as const, tenantId: a.id, campaignId: id, at: new Date().toISOString() };
    await publishLive(publisher, [
      { channel: liveChannels.tenantCampaigns(a.id), payload: { ...stale, status: 'PAUSED', revision: 1 } },
      {
        channel: liveChannels.tenantCampaigns(a.id),
        payload: { ...stale, status: 'COMPLETED', revision: 3 },
      },
    ]);
    await ownWatcher.until(3);
    expect(ownWatcher.results.map((r) => r.campaignUpdates.status)).toEqual([
      'PAUSED',
      'RUNNING',
      'COMPLETED',
    ]);
    // Tenant B heard nothing of A's campaign: a change of its own, published after all of A's, is the first it gets.
    const ownOfB = randomUUID();
    await publishLive(publisher, [
      {
        channel: liveChannels.tenantCampaigns(b.id),
        payload: { ...stale, tenantId: b.id, campaignId: ownOfB, status: 'PAUSED', revision: 1 },
      },
    ]);
    await otherWatcher.until(1, "B's own change");
    expect(otherWatcher.results).toEqual([
      { campaignUpdates: { campaign: globalId('Campaign', ownOfB), status: 'PAUSED' } },
    ]);
  });

  it('limits subscriptions per socket', async () => {
    const id = await runningCampaign(a);
    const { client } = connect(a.apiKeys[Role.VIEWER]);
    const subs = Array.from({ length: 4 }, () => subscribe(client, STATS, { id: globalId('Campaign', id) }));
    await Promise.all(subs.map((s) => s.until(1)));
    const refused = subs.filter((s) => JSON.stringify(s.error ?? '').includes('at most 3 subscriptions'));
    expect(refused).toHaveLength(1);
  });

  it("closes a key's sockets when it is revoked", async () => {
    const tenant = await createTenant(t, 'Revoke');
    const keyRow = await t.db.apiKey.findFirstOrThrow({ where: { tenantId: tenant.id, role: Role.VIEWER } });
    const id = await runningCampaign(tenant);
    const socket = connect(tenant.apiKeys[Role.VIEWER]);
    const s = subscribe(socket.client, STATS, { id: globalId('Campaign', id) });
    await s.until(1);
    const revoked = await gql(
      t.url,
      'mutation($id: ID!) { revokeApiKey(id: $id) { ... on ApiKey { revokedAt } } }',
      { id: globalId('ApiKey', keyRow.id) },
      { auth: tenant.tokens[Role.ADMIN] },
    );
    expect(revoked.body.errors).toBeUndefined();
    expect((await socket.whenClosed).code).toBe(4401);
    // And it cannot come back.
    expect((await connect(tenant.apiKeys[Role.VIEWER]).whenClosed).code).toBe(4403);
  });

  it('closes the sockets of a session when it logs out', async () => {
    const tenant = await createTenant(t, 'Logout');
    const token = tenant.tokens[Role.VIEWER];
    const id = await runningCampaign(tenant);
    const socket = connect(token);
    const s = subscribe(socket.client, STATS, { id: globalId('Campaign', id) });
    await s.until(1);
    const out = await gql(t.url, 'mutation { logout }', {}, { auth: token });
    expect(out.body.errors).toBeUndefined();
    expect((await socket.whenClosed).code).toBe(4401);
  });

  it('limits the sockets of one credential on a gateway', async () => {
    const small = await startTestGateway({ GRAPHQL_WS_MAX_SOCKETS_PER_CREDENTIAL: '2' });
    try {
      const id = await runningCampaign(a);
      const open = [connect(a.apiKeys[Role.VIEWER], small.url), connect(a.apiKeys[Role.VIEWER], small.url)];
      const subs = open.map((o) => subscribe(o.client, STATS, { id: globalId('Campaign', id) }));
      await Promise.all(subs.map((x) => x.until(1)));
      expect((await connect(a.apiKeys[Role.VIEWER], small.url).whenClosed).code).toBe(4429);
      // Another credential is not affected.
      const other = connect(a.apiKeys[Role.OPERATOR], small.url);
      const ok = subscribe(other.client, STATS, { id: globalId('Campaign', id) });
      await ok.until(1);
      expect(ok.results).toHaveLength(1);
    } finally {
      await small.stop();
    }
  });
});
