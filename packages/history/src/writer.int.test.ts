// The history writer against the stack's history keyspace (Cassandra): what it writes, and in how many requests.
import { randomUUID } from 'node:crypto';
import { cassandraEnv, parseEnv } from '@outbound/config';
import type { TFlowEvent, TStatusEvent } from '@outbound/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CqlClient, createCqlClient } from './client.ts';
import { readCallHistory } from './reader.ts';
import { activityBucket } from './schema.ts';
import { createHistoryWriter } from './writer.ts';

const config = parseEnv(cassandraEnv, process.env);
let cql: CqlClient;

beforeAll(() => {
  cql = createCqlClient(config, { keyspace: config.CASSANDRA_KEYSPACE });
});

afterAll(async () => {
  await cql?.shutdown();
});

/** The requests the client sends (statements and batches), counted on the real client. */
function countRequests(client: CqlClient): { requests: () => number; restore: () => void } {
  const { execute, batch } = client;
  let n = 0;
  client.execute = ((...args: Parameters<CqlClient['execute']>) => {
    n++;
    return execute.apply(client, args);
  }) as CqlClient['execute'];
  client.batch = ((...args: Parameters<CqlClient['batch']>) => {
    n++;
    return batch.apply(client, args);
  }) as CqlClient['batch'];
  return {
    requests: () => n,
    restore: () => {
      client.execute = execute;
      client.batch = batch;
    },
  };
}

describe('history writer', () => {
  it('writes a status batch with one request per partition: each call, and the campaign hour of activity', async () => {
    const tenantId = randomUUID();
    const campaignId = randomUUID();
    const at = new Date('2026-12-06T10:15:00.000Z');
    const calls = [randomUUID(), randomUUID()];
    const status = (callId: string, event: TStatusEvent['event'], offsetMs: number): TStatusEvent => ({
      v: 1,
      kind: 'status',
      eventId: `${callId}:${event}`,
      tenantId,
      campaignId,
      callId,
      attemptId: callId,
      attempt: 1,
      event,
      providerCallId: `CA${callId.replaceAll('-', '')}`,
      occurredAt: new Date(at.getTime() + offsetMs).toISOString(),
      ...(event === 'completed' && { outcome: 'BUSY', durationMs: 0, detail: 'busy' }),
    });
    const events = calls.flatMap((c) => [status(c, 'initiated', 0), status(c, 'answered', 1000)]);
    const endings = calls.map((c) => status(c, 'completed', 2000));
    const flow: TFlowEvent = {
      v: 1,
      kind: 'flow',
      step: 'error',
      eventId: `${calls[0]}:flow:error`,
      tenantId,
      campaignId,
      callId: calls[0] as string,
      attemptId: calls[0] as string,
      attempt: 1,
      providerCallId: 'CAflow',
      flowVersion: 1,
      occurredAt: new Date(at.getTime() + 1500).toISOString(),
      error: 'document refused',
    };

    const counter = countRequests(cql);
    try {
      await createHistoryWriter(cql).writeAll(
        { events: [...events, ...endings], endings, flowEvents: [flow] },
        () => '+442079460801',
      );
    } finally {
      counter.restore();
    }
    // 2 calls x (3 events + 3 attempt upserts + 1 ending) + 1 flow event, and 7 activity rows: 3 requests, not 22.
    expect(counter.requests()).toBe(3);

    for (const callId of calls) {
      const history = await readCallHistory(cql, callId, { tenantId, deadlineMs: 10_000 });
      expect(history.attempts).toHaveLength(1);
      const [attempt] = history.attempts;
      expect(attempt).toMatchObject({
        attemptId: callId,
        dialedAt: at,
        answeredAt: new Date(at.getTime() + 1000),
        endedAt: new Date(at.getTime() + 2000),
        outcome: 'BUSY',
        error: 'busy',
      });
      expect(attempt?.events.map((e) => e.type)).toEqual(
        callId === calls[0]
          ? ['initiated', 'answered', 'flow.error', 'completed']
          : ['initiated', 'answered', 'completed'],
      );
    }
    const activity = await cql.execute(
      'SELECT event_id FROM campaign_activity WHERE campaign_id = ? AND bucket = ?',
      [campaignId, activityBucket(at)],
    );
    expect(activity.rows).toHaveLength(7);
  });
});
