// The webhook dispatcher against real Kafka and PostgreSQL, delivering to a local receiver (an HTTP server of the
// test): fan-out to subscribed endpoints, signatures checked with the Standard Webhooks reference verifier,
// idempotency on redelivered Kafka messages, retries, per-call ordering, disabling, redelivery, the outbox relay and
// the target guard at delivery time.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  encode,
  type TCallAttemptEnded,
  type TCallFinished,
  type TNumberOptedOut,
  type TPlatformEvent,
} from '@outbound/contracts';
import { completeCampaignIfDone } from '@outbound/db';
import { createMetricsRegistry } from '@outbound/observability';
import { createCampaign, createHarness, eventually, type Harness, testLogger } from '@outbound/testing';
import { newSigningSecret, type Resolver, webhookIdOf } from '@outbound/webhooks';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookDispatcher, type WebhookDispatcher } from './dispatcher.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
  at: number;
}

let h: Harness;
let receiver: Server;
let base: string;
const received: Received[] = [];
/** Per path: the status to answer for the n-th request (1-based); 204 when absent. */
const behaviour = new Map<string, (n: number) => number>();
/** Paths answered only after this many ms. */
const slow = new Map<string, number>();
let dispatcher: WebhookDispatcher;

function startDispatcher(overrides: { allowPrivate?: boolean; resolve?: Resolver } = {}) {
  return createWebhookDispatcher({
    kafka: h.kafka,
    producer: h.producer,
    topics: h.topics,
    groupId: h.groupId(`webhook-dispatcher-${randomUUID().slice(0, 4)}`),
    pool: h.pool,
    logger: testLogger,
    registry: createMetricsRegistry('webhook-dispatcher-test'),
    relayMs: 100,
    retentionMs: 24 * 60 * 60 * 1000,
    retryWindowMs: 60 * 60 * 1000,
    sender: {
      concurrency: 8,
      endpointConcurrency: 2,
      pollMs: 50,
      timeoutMs: 2000,
      allowPrivateTargets: overrides.allowPrivate ?? true,
      retry: { baseDelayMs: 100, maxDelayMs: 300 },
      disable: { afterMs: 0, afterFailures: 4 },
      random: () => 0,
    },
    ...(overrides.resolve && { resolve: overrides.resolve }),
    consumer: { maxWaitTimeInMs: 100 },
  });
}

beforeAll(async () => {
  h = await createHarness('webhooks');
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      const path = req.url ?? '';
      const n = received.filter((r) => r.path === path).length + 1;
      const status = behaviour.get(path)?.(n) ?? 204;
      received.push({ path, headers: req.headers, body, status, at: Date.now() });
      setTimeout(
        () => res.writeHead(status).end(status >= 300 ? `{"error":"nope ${n}"}` : ''),
        slow.get(path) ?? 0,
      );
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  dispatcher = startDispatcher();
  await dispatcher.start();
  await eventually(() => dispatcher.isReady(), 'the dispatcher to join its group');
}, 90_000);

afterAll(async () => {
  await dispatcher?.stop();
  receiver?.closeAllConnections();
  receiver?.close();
  await h?.cleanup();
}, 60_000);

type EventType = 'CALL_ATTEMPT_ENDED' | 'CALL_FINISHED' | 'CAMPAIGN_STATUS_CHANGED' | 'NUMBER_OPTED_OUT';

async function endpoint(
  tenantId: string,
  path: string,
  eventTypes: EventType[],
  { enabled = true, url = `${base}${path}` } = {},
) {
  const secret = newSigningSecret();
  const row = await h.db.webhookEndpoint.create({ data: { tenantId, url, eventTypes, secret, enabled } });
  return { id: row.id, secret, path };
}

let sequence = 0;
function ids(tenantId: string, campaignId: string) {
  const callId = randomUUID();
  const attemptId = randomUUID();
  const phoneNumber = `+4420794${String(++sequence).padStart(6, '0')}`;
  const at = new Date().toISOString();
  return {
    attemptEnded: (more: Partial<TCallAttemptEnded> = {}): TCallAttemptEnded => ({
      v: 1,
      kind: 'call.attempt_ended',
      eventId: `attempt-ended:${attemptId}`,
      tenantId,
      campaignId,
      callId,
      phoneNumber,
      attempt: 1,
      attemptId,
      outcome: 'ANSWERED',
      durationMs: 3000,
      endedAt: at,
      callStatus: 'COMPLETED',
      ...more,
    }),
    finished: (): TCallFinished => ({
      v: 1,
      kind: 'call.finished',
      eventId: `call-finished:${callId}`,
      tenantId,
      campaignId,
      callId,
      phoneNumber,
      status: 'COMPLETED',
      attempts: 1,
      lastOutcome: 'ANSWERED',
      reason: null,
      finishedAt: at,
      result: {
        answeredBy: 'HUMAN',
        messagePlayed: true,
        voicemailLeft: false,
        answerKey: '1',
        answerLabel: 'confirmed',
        optedOut: false,
        transferNumber: null,
        transferStatus: null,
        flowError: null,
      },
    }),
    optedOut: (): TNumberOptedOut => ({
      v: 1,
      kind: 'number.opted_out',
      eventId: `opted-out:${callId}:key`,
      tenantId,
      campaignId,
      callId,
      phoneNumber,
      key: '9',
      optedOutAt: at,
    }),
  };
}

async function publish(events: TPlatformEvent[]) {
  await h.producer.send(
    h.topics.events,
    events.map((e) => ({ key: e.campaignId, value: encode(e) })),
  );
}

const at = (path: string) => received.filter((r) => r.path === path);
const bodies = (path: string) =>
  at(path).map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });

async function deliveries(endpointId: string) {
  return (
    await h.pool.query(
      `SELECT d.status::text AS status, d.attempts, d.last_status_code, d.last_error, d.last_response_excerpt,
              d.last_latency_ms, d.event_id, ev.type::text AS type
       FROM webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id
       WHERE d.endpoint_id = $1 ORDER BY d.id`,
      [endpointId],
    )
  ).rows;
}

describe('webhook dispatcher', () => {
  it('delivers each event once to every endpoint subscribed to its type, signed; redelivered messages add nothing', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'PENDING' }] });
    const other = await createCampaign(h.db, { calls: [{ status: 'PENDING' }] });
    const calls = await endpoint(fixture.tenantId, '/fanout/calls', ['CALL_ATTEMPT_ENDED', 'CALL_FINISHED']);
    const optOuts = await endpoint(fixture.tenantId, '/fanout/opt-outs', ['NUMBER_OPTED_OUT']);
    await endpoint(fixture.tenantId, '/fanout/disabled', ['CALL_FINISHED'], { enabled: false });
    await endpoint(other.tenantId, '/fanout/other-tenant', ['CALL_FINISHED', 'NUMBER_OPTED_OUT']);
    await h.pool.query(`UPDATE calls SET metadata = '{"crmId":"A-17"}' WHERE id = $1`, [
      fixture.calls[0]?.id,
    ]);
    const call = ids(fixture.tenantId, fixture.campaignId);
    const known = { ...ids(fixture.tenantId, fixture.campaignId) };
    const withMetadata = known.finished();
    withMetadata.callId = fixture.calls[0]?.id as string;
    withMetadata.eventId = `call-finished:${withMetadata.callId}`;
    const events = [call.attemptEnded(), call.optedOut(), call.finished(), withMetadata];
    await publish(events);

    await eventually(
      () => at('/fanout/calls').length >= 3 && at('/fanout/opt-outs').length >= 1,
      'the deliveries',
    );
    expect(bodies('/fanout/calls').map((b) => b.type)).toEqual([
      'call.attempt_ended',
      'call.finished',
      'call.finished',
    ]);
    expect(bodies('/fanout/opt-outs').map((b) => b.type)).toEqual(['number.opted_out']);
    // Every request verifies with the reference implementation, with its endpoint's secret only.
    for (const r of at('/fanout/calls')) {
      expect(new Webhook(calls.secret).verify(r.body, r.headers as Record<string, string>)).toBeTruthy();
      expect(() => new Webhook(optOuts.secret).verify(r.body, r.headers as Record<string, string>)).toThrow();
    }
    const first = at('/fanout/calls').find(
      (r) => JSON.parse(r.body).type === 'call.attempt_ended',
    ) as Received;
    expect(first.headers['webhook-id']).toBe(webhookIdOf(events[0]?.eventId as string));
    expect(JSON.parse(first.body)).toMatchObject({
      type: 'call.attempt_ended',
      timestamp: events[0]?.kind === 'call.attempt_ended' ? events[0].endedAt : '',
      data: { callId: call.finished().callId, outcome: 'ANSWERED', durationMs: 3000, metadata: {} },
    });
    expect(JSON.parse(first.body).data).not.toHaveProperty('tenantId');
    expect(bodies('/fanout/calls').find((b) => b.data.callId === withMetadata.callId)?.data).toMatchObject({
      metadata: { crmId: 'A-17' },
    });

    // Kafka delivers the batch again (a rebalance, a crash before the commit): no new delivery, no new request.
    await publish(events);
    const marker = ids(fixture.tenantId, fixture.campaignId).optedOut();
    await publish([marker]);
    await eventually(() => at('/fanout/opt-outs').length >= 2, 'the marker after the copies');
    expect(at('/fanout/calls')).toHaveLength(3);
    expect(at('/fanout/opt-outs')).toHaveLength(2);
    expect(at('/fanout/disabled')).toHaveLength(0);
    expect(at('/fanout/other-tenant')).toHaveLength(0);
    const recorded = await eventually(async () => {
      const found = await deliveries(calls.id);
      return found.every((d) => d.status === 'DELIVERED') && found;
    }, 'the deliveries recorded');
    expect(recorded.map((d) => [d.status, d.attempts, d.last_status_code])).toEqual([
      ['DELIVERED', 1, 204],
      ['DELIVERED', 1, 204],
      ['DELIVERED', 1, 204],
    ]);
  });

  it("retries a failing partner with backoff until it answers, never sending a call's later event before the earlier one", async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'PENDING' }] });
    const target = await endpoint(fixture.tenantId, '/flaky', ['CALL_ATTEMPT_ENDED', 'CALL_FINISHED']);
    // The first two requests fail (500, then 503); later ones pass.
    behaviour.set('/flaky', (n) => (n === 1 ? 500 : n === 2 ? 503 : 200));
    const call = ids(fixture.tenantId, fixture.campaignId);
    const second = ids(fixture.tenantId, fixture.campaignId);
    await publish([call.attemptEnded(), call.finished(), second.finished()]);

    await eventually(() => at('/flaky').filter((r) => r.status === 200).length >= 3, 'everything delivered');
    const requests = at('/flaky').map((r) => ({ id: r.headers['webhook-id'], status: r.status, at: r.at }));
    const endedId = webhookIdOf(call.attemptEnded().eventId);
    const finishedId = webhookIdOf(call.finished().eventId);
    // The call's finish is never attempted before its attempt ending was delivered.
    const endedDelivered = requests.find((r) => r.id === endedId && r.status === 200);
    const firstFinishTry = requests.find((r) => r.id === finishedId);
    expect(firstFinishTry?.at).toBeGreaterThanOrEqual(endedDelivered?.at ?? Number.POSITIVE_INFINITY);
    // The receiver answered before the dispatcher recorded it: wait for the records.
    const rows = await eventually(async () => {
      const found = await deliveries(target.id);
      return found.every((d) => d.status === 'DELIVERED') && found;
    }, 'the deliveries recorded');
    expect(rows.map((d) => d.last_status_code)).toEqual([200, 200, 200]);
    expect(rows.reduce((sum, d) => sum + d.attempts, 0)).toBe(5);
    // The endpoint's run of failures ended with the successes.
    const row = await h.db.webhookEndpoint.findUniqueOrThrow({ where: { id: target.id } });
    expect(row).toMatchObject({ enabled: true, consecutiveFailures: 0, failingSince: null });
    // Backoff: the first retry waited at least the base delay.
    const tries = requests.filter((r) => r.id === requests[0]?.id);
    expect((tries[1]?.at ?? 0) - (tries[0]?.at ?? 0)).toBeGreaterThanOrEqual(90);
  });

  it('records a failure with its code and a short excerpt, and disables an endpoint after a run of failures', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'PENDING' }] });
    const target = await endpoint(fixture.tenantId, '/down', ['CALL_FINISHED']);
    behaviour.set('/down', () => 500);
    await publish([
      ids(fixture.tenantId, fixture.campaignId).finished(),
      ids(fixture.tenantId, fixture.campaignId).finished(),
    ]);

    const row = await eventually(async () => {
      const found = await h.db.webhookEndpoint.findUniqueOrThrow({ where: { id: target.id } });
      return !found.enabled && found;
    }, 'the endpoint disabled');
    // At least the 4 of the setting (a request in flight may have failed too before the disable).
    const reason =
      /^disabled automatically: (\d+) attempts in a row failed since (\S+) with no success \(the last: answered 500\)/.exec(
        row.disabledReason ?? '',
      );
    expect(Number(reason?.[1])).toBeGreaterThanOrEqual(4);
    expect(new Date(reason?.[2] ?? '').getTime()).toBe(row.failingSince?.getTime());
    expect(row.disabledAt).toBeInstanceOf(Date);
    const rows = await deliveries(target.id);
    expect(rows.every((d) => d.status === 'PENDING')).toBe(true);
    expect(rows[0]).toMatchObject({ last_status_code: 500, last_error: 'answered 500' });
    expect(rows[0]?.last_response_excerpt).toMatch(/^\{"error":"nope \d+"\}$/);
    // Disabled: nothing more is sent, although deliveries wait.
    const sent = at('/down').length;
    const marker = await endpoint(fixture.tenantId, '/down-marker', ['CALL_FINISHED']);
    await publish([ids(fixture.tenantId, fixture.campaignId).finished()]);
    await eventually(() => at('/down-marker').length >= 1, 'a later event to another endpoint');
    await eventually(async () => (await deliveries(marker.id)).length === 1, 'its delivery row');
    expect(at('/down')).toHaveLength(sent);
  });

  it("does not hold an endpoint's deliveries behind another endpoint's backlog", async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'PENDING' }] });
    await endpoint(fixture.tenantId, '/backlog', ['NUMBER_OPTED_OUT']);
    slow.set('/backlog', 200);
    // 40 opt-outs of different calls for a slow partner (2 at a time: 4 s of work), then one for another endpoint.
    await publish(Array.from({ length: 40 }, () => ids(fixture.tenantId, fixture.campaignId).optedOut()));
    await eventually(() => at('/backlog').length >= 2, 'the backlog started');
    const other = await createCampaign(h.db, { calls: [{ status: 'PENDING' }] });
    await endpoint(other.tenantId, '/quick', ['NUMBER_OPTED_OUT']);
    await publish([ids(other.tenantId, other.campaignId).optedOut()]);
    await eventually(() => at('/quick').length === 1, 'the other endpoint served');
    expect(at('/backlog').length).toBeLessThan(30);
    await eventually(() => at('/backlog').length === 40, 'the backlog drained', 30_000);
  });

  it('sends a delivery put back by hand again, with the same webhook-id', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'PENDING' }] });
    const target = await endpoint(fixture.tenantId, '/again', ['NUMBER_OPTED_OUT']);
    const event = ids(fixture.tenantId, fixture.campaignId).optedOut();
    await publish([event]);
    await eventually(() => at('/again').length === 1, 'the first delivery');
    // What the gateway's redeliverWebhookDelivery does.
    await h.pool.query(
      `UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = now(), retry_until = now() + interval '1 hour'
       WHERE endpoint_id = $1`,
      [target.id],
    );
    await eventually(() => at('/again').length === 2, 'the redelivery');
    const [first, second] = at('/again') as [Received, Received];
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.body).toBe(first.body);
    await eventually(
      async () => (await deliveries(target.id))[0]?.status === 'DELIVERED',
      'the redelivery recorded',
    );
    expect(await deliveries(target.id)).toMatchObject([{ status: 'DELIVERED', attempts: 2 }]);
  });

  it('relays campaign status changes from the outbox to campaign.events, once, in order', async () => {
    const fixture = await createCampaign(h.db, { calls: [{ status: 'COMPLETED' }] });
    const target = await endpoint(fixture.tenantId, '/campaigns', ['CAMPAIGN_STATUS_CHANGED']);
    expect(await completeCampaignIfDone(h.pool, fixture.campaignId)).not.toBeNull();
    await eventually(() => at('/campaigns').length >= 1, 'the status change delivered');
    expect(bodies('/campaigns')[0]).toMatchObject({
      type: 'campaign.status_changed',
      data: { campaignId: fixture.campaignId, from: 'RUNNING', to: 'COMPLETED', revision: 1 },
    });
    const outbox = await h.pool.query(
      'SELECT published_at FROM campaign_status_events WHERE campaign_id = $1',
      [fixture.campaignId],
    );
    expect(outbox.rows).toHaveLength(1);
    expect(outbox.rows[0]?.published_at).toBeInstanceOf(Date);
    expect(await deliveries(target.id)).toHaveLength(1);
  });

  it('refuses, at delivery time, a host whose DNS answer holds a loopback address, sending nothing', async () => {
    // This installation allows no private targets; the partner's name now resolves to this machine.
    await dispatcher.stop();
    dispatcher = startDispatcher({
      allowPrivate: false,
      resolve: async () => [
        { address: '93.184.215.14', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    });
    await dispatcher.start();
    const fixture = await createCampaign(h.db, { calls: [{ status: 'PENDING' }] });
    const port = new URL(base).port;
    const target = await endpoint(fixture.tenantId, '/rebound', ['CALL_FINISHED'], {
      url: `http://partner.example:${port}/rebound`,
    });
    await publish([ids(fixture.tenantId, fixture.campaignId).finished()]);
    const [row] = await eventually(async () => {
      const rows = await deliveries(target.id);
      return rows[0]?.last_error && rows;
    }, 'an attempt recorded');
    expect(row).toMatchObject({ status: 'PENDING', last_status_code: null });
    expect(row?.last_error).toContain('refused: partner.example resolves to 127.0.0.1 is a loopback address');
    expect(at('/rebound')).toHaveLength(0);
  });
});
