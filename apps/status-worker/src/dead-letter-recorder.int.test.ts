// The dead-letter recorder against real Kafka and PostgreSQL: dead letters made by the consumer runtime itself (an
// undecodable status message, and one whose handler keeps failing) are recorded with their tenant, bytes and
// headers; a message with unreadable dead-letter headers is recorded too; a second pass over the topic adds nothing.
import { randomUUID } from 'node:crypto';
import { type BatchConsumer, createBatchConsumer } from '@outbound/bus';
import { encode, type TStatusEvent, ZStatusEvent } from '@outbound/contracts';
import { createMetricsRegistry } from '@outbound/observability';
import { createCampaign, createHarness, eventually, type Harness, testLogger } from '@outbound/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadLetterRecorder, type DeadLetterRecorder } from './dead-letter-recorder.ts';
import { UnprocessableEventError } from './errors.ts';

let h: Harness;
let failing: BatchConsumer;
let recorder: DeadLetterRecorder;
const recorders: DeadLetterRecorder[] = [];

const POISON = 'poison:';

function startRecorder(groupName: string): DeadLetterRecorder {
  const started = createDeadLetterRecorder({
    kafka: h.kafka,
    producer: h.producer,
    deadLetterTopic: h.topics.deadLetter,
    pool: h.pool,
    logger: testLogger,
    registry: createMetricsRegistry('dead-letter-recorder-test'),
    groupId: h.groupId(groupName),
    consumer: { maxWaitTimeInMs: 100, retryableBackoffMs: { initial: 100, max: 500 } },
  });
  recorders.push(started);
  return started;
}

beforeAll(async () => {
  h = await createHarness('deadletters');
  // The consumer runtime as the status worker runs it (same schema, same name): it dead-letters what does not
  // decode, and a poison event after its attempts, exactly as in production.
  failing = createBatchConsumer<TStatusEvent>({
    kafka: h.kafka,
    groupId: h.groupId('status-worker'),
    name: 'status-worker',
    topics: [h.topics.status],
    schema: ZStatusEvent,
    logger: testLogger,
    deadLetterTopic: h.topics.deadLetter,
    producer: h.producer,
    maxAttempts: 2,
    retryBackoffMs: { initial: 20, max: 50 },
    maxWaitTimeInMs: 100,
    handleBatch: async ({ messages }) => {
      const poison = messages.find((m) => m.message.eventId.startsWith(POISON));
      if (poison) throw new UnprocessableEventError(`event ${poison.message.eventId} cannot apply`);
    },
  });
  recorder = startRecorder('dead-letter-recorder');
  await Promise.all([failing.start(), recorder.start()]);
  await eventually(() => failing.isReady() && recorder.isReady(), 'the consumers to join their groups');
}, 90_000);

afterAll(async () => {
  await Promise.all([failing?.stop(), ...recorders.map((r) => r.stop())]);
  await h?.cleanup();
}, 60_000);

interface Row {
  id: string;
  tenant_id: string | null;
  campaign_id: string | null;
  error: string;
  kind: string;
  original_topic: string | null;
  original_partition: number | null;
  original_offset: string | null;
  original_key: string | null;
  failed_at: Date;
  consumer: string | null;
  attempts: number;
  value: Buffer | null;
  headers: unknown;
  dead_letter_topic: string;
  dead_letter_partition: number;
  dead_letter_offset: string;
  replay_count: number;
  replayed_at: Date | null;
}

async function rowsWhere(condition: string, value: unknown): Promise<Row[]> {
  return (
    await h.pool.query<Row>(
      `SELECT *, original_offset::text AS original_offset, dead_letter_offset::text AS dead_letter_offset
       FROM dead_letters WHERE ${condition}`,
      [value],
    )
  ).rows;
}

function statusEvent(tenantId: string, campaignId: string, eventId: string): TStatusEvent {
  return {
    v: 1,
    kind: 'status',
    eventId,
    tenantId,
    campaignId,
    callId: randomUUID(),
    attemptId: randomUUID(),
    attempt: 1,
    event: 'ringing',
    providerCallId: 'CA0123456789abcdef',
    occurredAt: new Date().toISOString(),
  };
}

describe('dead-letter recorder', () => {
  it("records an undecodable status message under its campaign's tenant, with its bytes and headers", async () => {
    const fixture = await createCampaign(h.db, { calls: [] });
    // Telemetry is off here: the header goes through as it is.
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const garbage = '{"v":1,"kind":"status","eventId":"x"';
    await h.producer.send(h.topics.status, [
      { key: fixture.campaignId, value: garbage, headers: { traceparent } },
    ]);

    const [row] = await eventually(async () => {
      const rows = await rowsWhere('original_key = $1', fixture.campaignId);
      return rows.length > 0 && rows;
    }, 'the dead letter recorded');
    expect(row).toMatchObject({
      tenant_id: fixture.tenantId,
      campaign_id: fixture.campaignId,
      kind: 'INVALID',
      original_topic: h.topics.status,
      consumer: 'status-worker',
      attempts: 0,
      dead_letter_topic: h.topics.deadLetter,
      replay_count: 0,
      replayed_at: null,
    });
    expect(row?.error).toMatch(/^not JSON/);
    expect(row?.original_partition).toBeTypeOf('number');
    expect(row?.original_offset).toMatch(/^\d+$/);
    expect(row?.value?.toString('utf8')).toBe(garbage);
    // The original headers only: trace context kept, dead-letter headers left out.
    expect(row?.headers).toEqual([{ name: 'traceparent', value: traceparent }]);
  });

  it('records a message its handler kept failing on, under the tenant its value names', async () => {
    const fixture = await createCampaign(h.db, { calls: [] });
    const key = randomUUID(); // a campaign nobody has: the key cannot name the tenant
    const poison = statusEvent(fixture.tenantId, randomUUID(), `${POISON}${randomUUID()}`);
    await h.producer.send(h.topics.status, [{ key, value: encode(poison) }]);

    const [row] = await eventually(async () => {
      const rows = await rowsWhere('original_key = $1', key);
      return rows.length > 0 && rows;
    }, 'the dead letter recorded');
    expect(row).toMatchObject({
      tenant_id: fixture.tenantId,
      campaign_id: null,
      kind: 'FAILED',
      original_topic: h.topics.status,
      consumer: 'status-worker',
    });
    expect(row?.attempts).toBeGreaterThanOrEqual(2);
    expect(row?.error).toContain(`event ${poison.eventId} cannot apply`);
    expect(JSON.parse(row?.value?.toString('utf8') ?? 'null')).toEqual(poison);
  });

  it('records, for no tenant, a message whose dead-letter headers are unreadable', async () => {
    const value = Buffer.from([0xff, 0xfe, 0x00, 0x01]);
    const key = `not-a-campaign-${randomUUID()}`;
    await h.producer.send(h.topics.deadLetter, [
      { key, value, headers: { 'x-error': 'written by hand', 'x-error-kind': 'exploded', binary: value } },
    ]);

    const [row] = await eventually(async () => {
      const rows = await rowsWhere('original_key = $1', key);
      return rows.length > 0 && rows;
    }, 'the dead letter recorded');
    expect(row).toMatchObject({
      tenant_id: null,
      campaign_id: null,
      kind: 'INVALID',
      original_topic: null,
      original_partition: null,
      original_offset: null,
      consumer: null,
      attempts: 0,
    });
    expect(row?.error).toBe(
      'the dead-letter headers are unreadable (header x-original-topic: missing); x-error: written by hand',
    );
    expect(row?.value).toEqual(value);
    expect(row?.headers).toEqual([{ name: 'binary', base64: value.toString('base64') }]);
  });

  it('records a message whose headers PostgreSQL could not hold as they are (out of range, U+0000 in a name)', async () => {
    const key = `odd-${randomUUID()}`;
    await h.producer.send(h.topics.deadLetter, [
      {
        key,
        value: Buffer.from('{}'),
        headers: {
          'x-error': 'odd headers',
          'x-error-kind': 'failed',
          'x-original-topic': h.topics.status,
          'x-original-partition': '99999999999',
          'x-original-offset': '99999999999999999999',
          'x-original-key': key,
          'x-failed-at': '-100000-01-01T00:00:00.000Z',
          'x-consumer': 'somebody',
          'x-attempts': '3',
          'bad\u0000name': 'kept',
        },
      },
    ]);
    // Recorded (not retried forever): the numbers that do not fit are left out, the time is the arrival's.
    const [row] = await eventually(async () => {
      const rows = await rowsWhere('original_key = $1', key);
      return rows.length > 0 && rows;
    }, 'the dead letter recorded');
    expect(row).toMatchObject({
      kind: 'FAILED',
      original_partition: null,
      original_offset: null,
      attempts: 3,
    });
    expect(Math.abs(new Date(row?.failed_at ?? 0).getTime() - Date.now())).toBeLessThan(60_000);
    expect(row?.headers).toEqual([{ name: 'bad\uFFFDname', value: 'kept' }]);
  });

  it('records nothing twice when the dead-letter topic is read again from the start', async () => {
    const admin = h.kafka.admin();
    await admin.connect();
    try {
      const before = await rowsWhere('dead_letter_topic = $1', h.topics.deadLetter);
      const ends = await admin.fetchTopicOffsets(h.topics.deadLetter);
      const written = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
      expect(before).toHaveLength(written);

      // A new group starts at the earliest offset: every dead letter is delivered again.
      const group = 'dead-letter-recorder-again';
      const again = startRecorder(group);
      await again.start();
      await eventually(
        async () => {
          const [committed] = await admin.fetchOffsets({
            groupId: `${h.prefix}${group}`,
            topics: [h.topics.deadLetter],
          });
          return ends.every(
            (end) =>
              Number(end.high) === 0 ||
              Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1) >=
                Number(end.high),
          );
        },
        'the second pass to commit the end of the topic',
        30_000,
      );

      const after = await rowsWhere('dead_letter_topic = $1', h.topics.deadLetter);
      expect(after.map((r) => r.id).sort()).toEqual(before.map((r) => r.id).sort());
    } finally {
      await admin.disconnect();
    }
  });
});
