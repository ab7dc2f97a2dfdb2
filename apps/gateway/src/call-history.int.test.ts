// Call.history over HTTP, read from the stack's history keyspace (Cassandra), with rows written by the status
// worker's own history writer; tenant isolation; a clear, quick error when Cassandra is away.

import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { cassandraEnv, parseEnv } from '@outbound/config';
import type { TFlowEvent, TStatusEvent } from '@outbound/contracts';
import { type CqlClient, createCqlClient, createHistoryWriter } from '@outbound/history';
import { freePort } from '@outbound/testing/ports';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addTargets, dataOf, globalId, rowId, TEST_GATEWAY_ENV } from './testing/campaign-fixtures.ts';
import {
  createCampaign,
  createTenant,
  gql,
  removeTenant,
  startTestGateway,
  type TestGateway,
  type TestTenant,
} from './testing/harness.ts';

let t: TestGateway;
let tenant: TestTenant;
let other: TestTenant;
let cql: CqlClient;
/** The call with a history: its row id, global id, and its campaign's row id. */
let callId: string;
let callNodeId: string;
let campaignId: string;
/** A call of the same campaign that was never dialled. */
let quietCallNodeId: string;

const config = parseEnv(cassandraEnv, process.env);

beforeAll(async () => {
  t = await startTestGateway(TEST_GATEWAY_ENV);
  [tenant, other] = await Promise.all([createTenant(t, 'History'), createTenant(t, 'Other')]);
  const campaign = await createCampaign(t, tenant.tokens.OPERATOR);
  campaignId = rowId(campaign.id);
  await addTargets(t, tenant.tokens.OPERATOR, campaign.id, [
    { phoneNumber: '+442079460801' },
    { phoneNumber: '+442079460802' },
  ]);
  const [call, quiet] = await t.db.call.findMany({ where: { campaignId }, orderBy: { phoneNumber: 'asc' } });
  callId = call?.id as string;
  callNodeId = globalId('Call', callId);
  quietCallNodeId = globalId('Call', quiet?.id as string);
  // The same keyspace as the gateway: both take the stack's defaults.
  cql = createCqlClient(config, { keyspace: config.CASSANDRA_KEYSPACE });
});

afterAll(async () => {
  await cql?.shutdown();
  if (tenant) await removeTenant(t, tenant);
  if (other) await removeTenant(t, other);
  await t?.stop();
});

const HISTORY = `query($id: ID!) {
  node(id: $id) {
    ... on Call {
      phoneNumber
      history {
        attempts {
          attempt attemptId providerCallId dispatchedAt dialedAt answeredAt endedAt outcome durationMs error
          events { eventId type outcome occurredAt recordedAt durationMs providerCallId detail }
        }
      }
    }
  }
}`;

interface HistoryData {
  node: {
    phoneNumber: string;
    history: {
      attempts: {
        attempt: number;
        attemptId: string | null;
        providerCallId: string | null;
        dialedAt: string | null;
        answeredAt: string | null;
        endedAt: string | null;
        outcome: string | null;
        durationMs: number | null;
        error: string | null;
        events: {
          eventId: string;
          type: string;
          outcome: string | null;
          occurredAt: string;
          recordedAt: string;
          detail: string | null;
        }[];
      }[];
    } | null;
  } | null;
}

function statusEvent(
  attempt: { attemptId: string; attempt: number; providerCallId: string },
  type: TStatusEvent['event'],
  occurredAt: Date,
  extra: Partial<TStatusEvent> = {},
): TStatusEvent {
  return {
    v: 1,
    kind: 'status',
    eventId: `${attempt.providerCallId}:${type}`,
    tenantId: tenant.id,
    campaignId,
    callId,
    attemptId: attempt.attemptId,
    attempt: attempt.attempt,
    event: type,
    providerCallId: attempt.providerCallId,
    occurredAt: occurredAt.toISOString(),
    ...extra,
  };
}

describe('Call.history', () => {
  it("returns the call's attempts, oldest first, each with its events in the order they happened", async () => {
    const writer = createHistoryWriter(cql);
    const first = { attemptId: randomUUID(), attempt: 1, providerCallId: `CA${randomUUID().slice(0, 8)}` };
    const second = { attemptId: randomUUID(), attempt: 2, providerCallId: `CA${randomUUID().slice(0, 8)}` };
    const at = (seconds: number) => new Date(Date.UTC(2026, 10, 28, 10, 0, seconds));
    const busy = statusEvent(first, 'completed', at(20), { outcome: 'BUSY', detail: 'busy here' });
    const answered = statusEvent(second, 'completed', at(50), { outcome: 'ANSWERED', durationMs: 7000 });
    // Written as a status worker would meet them: out of order, in batches, endings after their events.
    await writer.write(
      [answered, busy].map((message) => ({ message })),
      () => '+442079460801',
    );
    await writer.write(
      [
        statusEvent(second, 'answered', at(43)),
        statusEvent(first, 'initiated', at(2)),
        statusEvent(second, 'initiated', at(40), { queuedAt: at(39).toISOString() }),
        statusEvent(first, 'ringing', at(5)),
      ].map((message) => ({ message })),
      () => '+442079460801',
    );
    await writer.writeEndings([busy, answered]);
    // Rows of another tenant in the call's partitions (an attempt and its event; only a bug could write them):
    // never shown.
    const foreign = { ...first, attempt: 3, attemptId: randomUUID() };
    await writer.write(
      [{ message: { ...statusEvent(foreign, 'ringing', at(59)), eventId: 'foreign', tenantId: other.id } }],
      () => undefined,
    );

    const response = await gql<HistoryData>(
      t.url,
      HISTORY,
      { id: callNodeId },
      { auth: tenant.apiKeys.VIEWER },
    );
    const attempts = dataOf(response).node?.history?.attempts ?? [];
    expect(attempts.map((a) => [a.attempt, a.attemptId, a.outcome, a.durationMs, a.error])).toEqual([
      [1, first.attemptId, 'BUSY', null, 'busy here'],
      [2, second.attemptId, 'ANSWERED', 7000, null],
    ]);
    expect(attempts[1]).toMatchObject({
      providerCallId: second.providerCallId,
      dispatchedAt: at(39).toISOString(),
      dialedAt: at(40).toISOString(),
      answeredAt: at(43).toISOString(),
      endedAt: at(50).toISOString(),
    });
    expect(attempts.map((a) => a.events.map((e) => [e.type, e.outcome, e.occurredAt]))).toEqual([
      [
        ['INITIATED', null, at(2).toISOString()],
        ['RINGING', null, at(5).toISOString()],
        ['COMPLETED', 'BUSY', at(20).toISOString()],
      ],
      [
        ['INITIATED', null, at(40).toISOString()],
        ['ANSWERED', null, at(43).toISOString()],
        ['COMPLETED', 'ANSWERED', at(50).toISOString()],
      ],
    ]);
    expect(attempts[0]?.events[2]).toMatchObject({ eventId: busy.eventId, recordedAt: expect.any(String) });
  });

  it('orders events of the same second as a call goes (carriers date callbacks to the second)', async () => {
    const writer = createHistoryWriter(cql);
    const only = { attemptId: randomUUID(), attempt: 7, providerCallId: `CA${randomUUID().slice(0, 8)}` };
    const second = new Date(Date.UTC(2026, 10, 28, 11, 0, 0));
    // Event ids that sort the other way round (Cassandra's tie-break within one timestamp).
    const events = [
      statusEvent(only, 'completed', second, { eventId: 'a', outcome: 'ANSWERED', durationMs: 900 }),
      statusEvent(only, 'answered', second, { eventId: 'b' }),
      statusEvent(only, 'ringing', second, { eventId: 'c' }),
      statusEvent(only, 'initiated', second, { eventId: 'd' }),
    ];
    await writer.write(
      events.map((message) => ({ message })),
      () => '+442079460801',
    );
    const response = await gql<HistoryData>(
      t.url,
      HISTORY,
      { id: callNodeId },
      { auth: tenant.apiKeys.VIEWER },
    );
    const attempt = dataOf(response).node?.history?.attempts.find((a) => a.attempt === 7);
    expect(attempt?.events.map((e) => e.type)).toEqual(['INITIATED', 'RINGING', 'ANSWERED', 'COMPLETED']);
  });

  it("shows the flow's events between the answer and the end, with their detail", async () => {
    const writer = createHistoryWriter(cql);
    const only = { attemptId: randomUUID(), attempt: 8, providerCallId: `CA${randomUUID().slice(0, 8)}` };
    const second = new Date(Date.UTC(2026, 10, 28, 12, 0, 0));
    const flow = {
      v: 1 as const,
      kind: 'flow' as const,
      tenantId: tenant.id,
      campaignId,
      callId,
      ...only,
      flowVersion: 3,
      occurredAt: second.toISOString(),
    };
    const flowEvents: TFlowEvent[] = [
      { ...flow, eventId: 'f1', step: 'answered', answeredBy: 'HUMAN', played: 'MESSAGE' },
      {
        ...flow,
        eventId: 'f2',
        step: 'key',
        offer: 1,
        key: '2',
        action: 'TRANSFER',
        transferTo: '+14155550199',
        phoneNumber: '+442079460801',
      },
      { ...flow, eventId: 'f3', step: 'transfer', status: 'ANSWERED', durationMs: 30_000 },
    ];
    // One second for everything, event ids sorting against the order of the call.
    await writer.write(
      [
        statusEvent(only, 'completed', second, { eventId: 'a', outcome: 'ANSWERED', durationMs: 40_000 }),
        statusEvent(only, 'answered', second, { eventId: 'z' }),
      ].map((message) => ({ message })),
      () => '+442079460801',
    );
    await writer.writeFlowEvents(flowEvents, () => '+442079460801');
    const response = await gql<HistoryData>(
      t.url,
      HISTORY,
      { id: callNodeId },
      { auth: tenant.apiKeys.VIEWER },
    );
    const attempt = dataOf(response).node?.history?.attempts.find((a) => a.attempt === 8);
    expect(attempt?.events.map((e) => [e.type, e.detail])).toEqual([
      ['ANSWERED', null],
      ['FLOW_ANSWERED', 'answeredBy=HUMAN played=MESSAGE flow=3'],
      ['FLOW_KEY', 'key=2 action=TRANSFER offer=1 transferTo=+14155550199 flow=3'],
      ['FLOW_TRANSFER', 'status=ANSWERED durationMs=30000 flow=3'],
      ['COMPLETED', null],
    ]);
  });

  it('reads at most 25 histories per request: the others are null, each with an error that says why', async () => {
    const crowd = await createCampaign(t, tenant.tokens.OPERATOR);
    await addTargets(
      t,
      tenant.tokens.OPERATOR,
      crowd.id,
      Array.from({ length: 27 }, (_, i) => ({ phoneNumber: `+4420794609${String(i).padStart(2, '0')}` })),
    );
    const response = await gql<{ campaign: { calls: { edges: { node: { history: unknown } }[] } } }>(
      t.url,
      'query($id: ID!) { campaign(id: $id) { calls(first: 27) { edges { node { history { attempts { attempt } } } } } } }',
      { id: crowd.id },
      { auth: tenant.apiKeys.VIEWER },
    );
    const histories = response.body.data?.campaign.calls.edges.map((e) => e.node.history) ?? [];
    expect(histories).toHaveLength(27);
    expect(histories.slice(0, 25).every((h) => h !== null)).toBe(true);
    expect(histories.slice(25)).toEqual([null, null]);
    expect(response.body.errors?.map((e) => [e.extensions?.code, e.message])).toEqual(
      Array(2).fill([
        'BAD_USER_INPUT',
        'at most 25 call histories per request: ask for the history of fewer calls at once',
      ]),
    );
  });

  it('is empty for a call never dialled', async () => {
    const response = await gql<HistoryData>(
      t.url,
      HISTORY,
      { id: quietCallNodeId },
      { auth: tenant.apiKeys.VIEWER },
    );
    expect(dataOf(response).node).toEqual({ phoneNumber: '+442079460802', history: { attempts: [] } });
  });

  it("gives another tenant nothing: the call's id resolves to null", async () => {
    const response = await gql<HistoryData>(
      t.url,
      HISTORY,
      { id: callNodeId },
      { auth: other.apiKeys.ADMIN },
    );
    expect(dataOf(response).node).toBeNull();
  });
});

describe('Call.history without Cassandra', () => {
  /** A gateway whose history store is `contactPoint`; the call is looked up in PostgreSQL as usual. */
  async function historyThrough(contactPoint: string, timeoutMs: number) {
    const gateway = await startTestGateway({
      ...TEST_GATEWAY_ENV,
      CASSANDRA_CONTACT_POINTS: contactPoint,
      HISTORY_READ_TIMEOUT_MS: String(timeoutMs),
    });
    try {
      const started = performance.now();
      const response = await gql<HistoryData>(
        gateway.url,
        HISTORY,
        { id: callNodeId },
        { auth: tenant.apiKeys.VIEWER },
      );
      return { response, elapsedMs: performance.now() - started };
    } finally {
      await gateway.stop();
    }
  }

  function expectUnavailable({ response }: Awaited<ReturnType<typeof historyThrough>>) {
    expect(response.status).toBe(200);
    // The call still comes back; only its history is missing, with an error that says why.
    expect(response.body.data?.node).toEqual({ phoneNumber: '+442079460801', history: null });
    expect(response.body.errors).toEqual([
      expect.objectContaining({
        message: 'call history is unavailable right now; try again shortly',
        path: ['node', 'history'],
        extensions: { code: 'SERVICE_UNAVAILABLE' },
      }),
    ]);
  }

  it('fails the field at once when nothing listens at the contact point', async () => {
    const result = await historyThrough(`127.0.0.1:${await freePort()}`, 10_000);
    expectUnavailable(result);
    expect(result.elapsedMs).toBeLessThan(5000);
  });

  it('fails the field after HISTORY_READ_TIMEOUT_MS when the node accepts but never answers', async () => {
    const sockets = new Set<Socket>();
    const silent: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as { port: number }).port;
      const result = await historyThrough(`127.0.0.1:${port}`, 800);
      expectUnavailable(result);
      expect(result.elapsedMs).toBeGreaterThanOrEqual(700);
      expect(result.elapsedMs).toBeLessThan(5000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
