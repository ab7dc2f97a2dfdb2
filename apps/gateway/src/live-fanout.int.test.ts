// The live fan-out (apps/gateway/src/live/fanout.ts) against a real gateway, PostgreSQL and Redis: campaignStats and
// wallboard of plain counters are served without an execution per message, and must look exactly like the
// execution of the same selection (the same frames, byte for byte); authorisation happens on subscribe; and after a
// Redis reconnection each channel is read once, whatever its number of subscribers.
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { type TCountersUpdate, ZCampaignCounters } from '@outbound/contracts';
import { liveChannels, publishLive } from '@outbound/live';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { campaignRow, globalId } from './testing/campaign-fixtures.ts';
import { createTenant, httpRequest, Role, startTestGateway, type TestGateway } from './testing/harness.ts';

let t: TestGateway;
let publisher: Redis;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  t = await startTestGateway({ GRAPHQL_WS_MAX_SUBSCRIPTIONS: '20' });
  publisher = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:26379');
});

afterAll(async () => {
  for (const s of sockets) s.terminate();
  publisher?.disconnect();
  await t?.stop();
});

/** A raw graphql-transport-ws socket: the frames it receives, as text, and waits for them. */
async function rawSocket(key: string, gateway = t) {
  const ws = new WebSocket(`${gateway.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  sockets.push(ws);
  const frames: string[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    frames.push(String(data));
    for (const w of waiters.splice(0)) w();
  });
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } }));
  const next = (id: string | undefined) => frames.filter((f) => (JSON.parse(f) as { id?: string }).id === id);
  const socket = {
    frames,
    /** The frames of subscription `id` (its `next`s, `error` or `complete`). */
    of: next,
    subscribe(id: string, query: string, variables: Record<string, unknown> = {}) {
      ws.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    },
    /** Waits for `n` frames of subscription `id` (undefined: the connection's own, such as its ack). */
    async until(id: string | undefined, n: number): Promise<string[]> {
      const deadline = Date.now() + 5000;
      while (next(id).length < n) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} frames of ${id}: ${frames}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return next(id);
    },
  };
  // Subscriptions are refused (the socket closed) before the server acknowledged the connection.
  await socket.until(undefined, 1);
  return socket;
}

/** A gateway metric's value (Prometheus text on the operations port). */
async function metric(name: string, labels = '', gateway = t): Promise<number> {
  const res = await httpRequest(gateway.gateway.opsUrl, { path: '/metrics' });
  const line = res.text
    .split('\n')
    .find((l) => l.startsWith(`${name}{`) && l.includes(labels) && !l.startsWith('#'));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function pausedCampaign(tenantId: string): Promise<string> {
  const campaign = await t.db.campaign.create({
    data: {
      ...campaignRow(tenantId, `Fan-out ${randomUUID().slice(0, 6)}`, 'PAUSED'),
      counters: { create: { tenantId, total: 10, pending: 7, completed: 3, version: 5n } },
    },
  });
  return campaign.id;
}

function update(tenantId: string, campaignId: string, version: number, completed: number): TCountersUpdate {
  return {
    v: 1,
    kind: 'counters',
    tenantId,
    campaignId,
    version,
    counters: ZCampaignCounters.parse({
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
      // The outcome breakdown and talk time (the KPIs' inputs): non-zero, so the rates are numbers, not null.
      outcomeAnswered: completed,
      outcomeVoicemail: 1,
      outcomeBusy: 2,
      talkMs: completed * 31_500,
      talked: completed,
    }),
    at: new Date().toISOString(),
  };
}

const FIELDS =
  'campaignId total pending queued dialing inProgress retryScheduled completed failed skipped cancelled attempts ' +
  'answeredByPerson answeredByMachine messagesPlayed voicemailsLeft optOuts transfers transfersAnswered flowErrors ' +
  'version updatedAt progress __typename ' +
  'outcomeAnswered outcomeVoicemail outcomeBusy outcomeNoAnswer outcomeRejected outcomeFailed outcomeCanceled ' +
  'dialled answered remaining answerRate humanRate machineRate voicemailRate failureRate optOutRate transferRate ' +
  'averageTalkSeconds';
/** The same selection, executed: a directive is something the fan-out leaves to the execution. */
const executed = (query: string) => query.replace('version', 'version @include(if: true)');

/** A frame without its subscription id, to compare frames of two subscriptions. */
const body = (frame: string) => frame.replace(/^\{"id":"[^"]*",/, '{');

describe('live fan-out', () => {
  it('campaignStats and wallboard: the same frames as the execution of the same selection, aliases included', async () => {
    const tenant = await createTenant(t, 'Fan-out');
    const id = await pausedCampaign(tenant.id);
    const ws = await rawSocket(tenant.apiKeys[Role.VIEWER]);
    const queries = {
      stats: `subscription($id: ID!) { campaignStats(campaignId: $id) { ${FIELDS} } }`,
      aliased: `subscription S($id: ID!) { s: campaignStats(campaignId: $id) { done: completed total version v: version } }`,
      wall: `subscription { wallboard { ${FIELDS} } }`,
    };
    const served = await metric('gateway_live_fanout_subscriptions');
    for (const [name, query] of Object.entries(queries)) {
      ws.subscribe(`fast-${name}`, query, { id: globalId('Campaign', id) });
      ws.subscribe(`exec-${name}`, executed(query), { id: globalId('Campaign', id) });
    }
    for (const name of Object.keys(queries)) await ws.until(`exec-${name}`, 1);
    for (const name of Object.keys(queries)) await ws.until(`fast-${name}`, 1);
    // The fast ones are the fan-out's (the executed ones are not).
    expect(await metric('gateway_live_fanout_subscriptions')).toBe(served + 3);

    await publishLive(publisher, [
      { channel: liveChannels.campaignCounters(id), payload: update(tenant.id, id, 4, 1) }, // older: dropped
      { channel: liveChannels.campaignCounters(id), payload: update(tenant.id, id, 6, 4) },
      { channel: liveChannels.tenantCounters(tenant.id), payload: update(tenant.id, id, 6, 4) },
    ]);
    for (const name of Object.keys(queries)) {
      const [fast, exec] = [await ws.until(`fast-${name}`, 2), await ws.until(`exec-${name}`, 2)];
      expect(fast.map(body)).toEqual(exec.map(body));
      expect(fast).toHaveLength(2);
    }
    expect(JSON.parse(ws.of('fast-aliased')[1] as string)).toEqual({
      id: 'fast-aliased',
      type: 'next',
      payload: { data: { s: { done: 4, total: 10, version: '6', v: '6' } } },
    });
  });

  it("authorises on subscribe: another tenant's campaign or a wrong id type gets the execution's error", async () => {
    const [a, b] = [await createTenant(t, 'Fan-out A'), await createTenant(t, 'Fan-out B')];
    const id = await pausedCampaign(a.id);
    const ws = await rawSocket(b.apiKeys[Role.ADMIN]);
    const query = 'subscription($id: ID!) { campaignStats(campaignId: $id) { version } }';
    ws.subscribe('fast-other', query, { id: globalId('Campaign', id) });
    ws.subscribe('exec-other', executed(query), { id: globalId('Campaign', id) });
    ws.subscribe('fast-type', query, { id: globalId('Call', id) });
    ws.subscribe('exec-type', executed(query), { id: globalId('Call', id) });
    for (const sub of ['fast-other', 'exec-other', 'fast-type', 'exec-type']) await ws.until(sub, 1);
    expect(ws.of('fast-other').map(body)).toEqual(ws.of('exec-other').map(body));
    expect(ws.of('fast-other')[0]).toContain('campaign not found');
    expect(ws.of('fast-type').map(body)).toEqual(ws.of('exec-type').map(body));
    // And B hears nothing of A's campaign.
    await publishLive(publisher, [
      { channel: liveChannels.campaignCounters(id), payload: update(a.id, id, 9, 5) },
    ]);
    const own = await pausedCampaign(b.id);
    ws.subscribe('own', query, { id: globalId('Campaign', own) });
    await ws.until('own', 1);
    expect(ws.of('fast-other')).toHaveLength(1);
  });

  it('after a Redis reconnection, reads each channel once for all its subscribers and sends what is newer', async () => {
    // A gateway of its own: its only channel is this test's (and the revocations', which reads nothing).
    const own = await startTestGateway({ GRAPHQL_WS_MAX_SUBSCRIPTIONS: '20' });
    try {
      await reconnection(own);
    } finally {
      await own.stop();
    }
  });
});

async function reconnection(gateway: TestGateway): Promise<void> {
  const tenant = await createTenant(gateway, 'Fan-out resync');
  const id = await pausedCampaign(tenant.id);
  const query = 'subscription($id: ID!) { campaignStats(campaignId: $id) { version completed } }';
  const subscribers = await Promise.all(
    Array.from({ length: 4 }, () => rawSocket(tenant.apiKeys[Role.VIEWER], gateway)),
  );
  subscribers.forEach((ws, n) => {
    ws.subscribe('fast', query, { id: globalId('Campaign', id) });
    ws.subscribe('exec', executed(query), { id: globalId('Campaign', id) });
    ws.subscribe('fast-2', `subscription($id: ID!) { campaignStats(campaignId: $id) { v${n}: version } }`, {
      id: globalId('Campaign', id),
    });
  });
  for (const ws of subscribers) for (const sub of ['fast', 'exec', 'fast-2']) await ws.until(sub, 1);

  // A change whose message is lost with the connection: only a read finds it.
  await t.db.campaignCounters.update({ where: { campaignId: id }, data: { version: 6n, completed: 4 } });
  const before = await metric('gateway_live_reads_total', 'reason="resync"', gateway);
  const stream = gateway.gateway.deps.live?.subscriber.stream as Socket;
  await publisher.client('KILL', 'ADDR', `${stream.localAddress}:${stream.localPort}`);
  for (const ws of subscribers) {
    for (const sub of ['fast', 'exec', 'fast-2']) await ws.until(sub, 2);
    expect(JSON.parse(ws.of('fast')[1] as string).payload).toEqual({
      data: { campaignStats: { version: '6', completed: 4 } },
    });
    expect(ws.of('fast').map(body)).toEqual(ws.of('exec').map(body));
  }
  // 12 subscribers (8 served by the fan-out, 4 executed) on one channel: one read.
  expect((await metric('gateway_live_reads_total', 'reason="resync"', gateway)) - before).toBe(1);
}
