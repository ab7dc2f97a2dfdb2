import { randomBytes, randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { kafkaEnv, parseEnv } from '@outbound/config';
import {
  contextFromHeaders,
  encode,
  headerValue,
  parseDeadLetterHeaders,
  type TRetry,
  type TStatusEvent,
  traceHeaders,
  traceIdOf,
  ZRetry,
  ZStatusEvent,
} from '@outbound/contracts';
import { createLogger, createMetricsRegistry, withSpan } from '@outbound/observability';
import { captureSpans, parentSpanIdOf } from '@outbound/observability/testing';
import type { KafkaMessage, Message } from 'kafkajs';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafka } from '../client.ts';
import { waitForLeaders } from '../ensure-topics.ts';
import { createProducer } from '../producer.ts';
import { type BatchConsumer, type BatchConsumerOptions, createBatchConsumer } from './consumer.ts';
import { RetryableError } from './errors.ts';

// Every test has its own topics and groups under a prefix of this run's own; all are deleted afterwards.
const logger = createLogger({ service: 'test', level: 'silent' });
const config = parseEnv(kafkaEnv, process.env);
const kafka = createKafka(config, logger, 'consumer-int-test');
const admin = kafka.admin();
const producer = createProducer(kafka);
const prefix = `test.worker.${randomBytes(4).toString('hex')}.`;
const created: string[] = [];
const groups: string[] = [];
const running = new Set<BatchConsumer>();
let sequence = 0;

beforeAll(async () => {
  await admin.connect();
  await producer.connect();
});

afterAll(async () => {
  await Promise.all([...running].map((c) => c.stop()));
  await producer.disconnect();
  if (created.length > 0) await admin.deleteTopics({ topics: created });
  await admin.deleteGroups(groups);
  await admin.disconnect();
});

/** An input topic (two partitions) and a dead-letter topic, unique to one test; a unique group id. */
async function setup(partitions = 2) {
  const base = `${prefix}${++sequence}`;
  const names = {
    input: `${base}.in`,
    deadLetter: `${base}.dlq`,
    output: `${base}.out`,
    group: `${base}.group`,
  };
  await admin.createTopics({
    waitForLeaders: false,
    topics: [
      { topic: names.input, numPartitions: partitions },
      { topic: names.deadLetter, numPartitions: 1 },
      { topic: names.output, numPartitions: 1 },
    ],
  });
  await waitForLeaders(admin, [names.input, names.deadLetter, names.output]);
  created.push(names.input, names.deadLetter, names.output);
  groups.push(names.group);
  return names;
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Rejects after `ms` with what was awaited, so a missing event fails the test instead of hanging it. */
function within<T>(promise: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A handler-side wait for a condition on recorded state, signalled each time the state changes. */
function signal() {
  const waiters: { check: () => boolean; resolve: () => void }[] = [];
  return {
    notify() {
      for (const waiter of [...waiters]) {
        if (waiter.check()) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    },
    until(check: () => boolean, what: string): Promise<void> {
      if (check()) return Promise.resolve();
      const { promise, resolve } = deferred();
      waiters.push({ check, resolve });
      return within(promise, what);
    },
  };
}

const campaignId = randomUUID();

function statusEvent(eventId: string, overrides: Partial<TStatusEvent> = {}): TStatusEvent {
  return {
    v: 1,
    kind: 'status',
    eventId,
    tenantId: randomUUID(),
    campaignId,
    callId: randomUUID(),
    attemptId: randomUUID(),
    attempt: 1,
    event: 'ringing',
    occurredAt: new Date().toISOString(),
    ...overrides,
  };
}

/** Retry messages have no free-text field: the test names them by call id. */
const retryLabels = new Map<string, string>();

function retryMessage(label: string, dueAt: Date): TRetry {
  const callId = randomUUID();
  retryLabels.set(callId, label);
  return {
    v: 1,
    kind: 'retry',
    tenantId: randomUUID(),
    campaignId,
    callId,
    attemptId: randomUUID(),
    attempt: 2,
    phoneNumber: '+14155550123',
    callerId: '+14155550100',
    timezone: 'UTC',
    fencingToken: 1,
    queuedAt: new Date().toISOString(),
    dueAt: dueAt.toISOString(),
  };
}

/** Produces in order to one partition; returns the offsets given. */
async function produce(
  topic: string,
  values: (Buffer | string)[],
  partition = 0,
  headers = {},
): Promise<string[]> {
  const [meta] = await producer.send(
    topic,
    values.map((value) => ({ key: campaignId, value, partition, headers })),
  );
  const base = BigInt(meta?.baseOffset ?? '0');
  return values.map((_, i) => (base + BigInt(i)).toString());
}

/** Reads `count` messages of a topic from the beginning with a throwaway group. */
async function readTopic(topic: string, count: number): Promise<KafkaMessage[]> {
  const groupId = `${topic}.reader.${randomBytes(3).toString('hex')}`;
  groups.push(groupId);
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const messages: KafkaMessage[] = [];
  const done = deferred();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    // No commits: the group leaves nothing behind.
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        messages.push(message);
        if (messages.length >= count) done.resolve();
      },
    });
    await within(done.promise, `${count} messages on ${topic}`);
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

async function highWatermarks(topic: string): Promise<Record<number, string>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return Object.fromEntries(offsets.map((o) => [o.partition, o.high]));
}

async function committed(groupId: string, topic: string): Promise<Record<number, string>> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return Object.fromEntries((entry?.partitions ?? []).map((p) => [p.partition, p.offset]));
}

async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const found = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return found?.value ?? 0;
}

const fast = {
  logger,
  maxAttempts: 3,
  retryBackoffMs: { initial: 5, max: 20 },
  retryableBackoffMs: { initial: 10, max: 40 },
  heartbeatInterval: 500,
  sessionTimeout: 10_000,
  maxWaitTimeInMs: 100,
};

function consume<T>(
  options: Omit<BatchConsumerOptions<T>, 'kafka' | 'logger'> & Partial<typeof fast>,
): BatchConsumer {
  const consumer = createBatchConsumer<T>({ kafka, ...fast, ...options });
  running.add(consumer);
  return consumer;
}

async function stop(consumer: BatchConsumer): Promise<void> {
  await consumer.stop();
  running.delete(consumer);
}

describe('batch consumer', () => {
  it('commits only after the handler succeeded; a batch that never succeeded is redelivered to the next consumer', async () => {
    const t = await setup();
    const first = ['a1', 'a2', 'a3'];
    await produce(
      t.input,
      first.map((id) => encode(statusEvent(id))),
    );

    // 1. Handled and committed.
    const seenA: string[] = [];
    const changedA = signal();
    const a = consume({
      groupId: t.group,
      topics: [t.input],
      schema: ZStatusEvent,
      deadLetterTopic: t.deadLetter,
      handleBatch: async ({ messages }) => {
        seenA.push(...messages.map((m) => m.message.eventId));
        changedA.notify();
      },
    });
    expect(a.isReady()).toBe(false);
    await a.start();
    await changedA.until(() => seenA.length === 3, 'the first three messages');
    expect(a.isReady()).toBe(true);
    await stop(a);
    expect(a.isReady()).toBe(false);
    const afterA = await committed(t.group, t.input);
    expect(afterA).toEqual({ 0: '3', 1: '-1' });

    // 2. A consumer of the same group gets only the new messages; its handler keeps failing: nothing is committed.
    const second = ['b1', 'b2'];
    await produce(
      t.input,
      second.map((id) => encode(statusEvent(id))),
    );
    const callsB: string[][] = [];
    const changedB = signal();
    const b = consume({
      groupId: t.group,
      topics: [t.input],
      schema: ZStatusEvent,
      deadLetterTopic: t.deadLetter,
      handleBatch: async ({ messages }) => {
        callsB.push(messages.map((m) => m.message.eventId));
        changedB.notify();
        throw new RetryableError('database unavailable');
      },
    });
    await b.start();
    await changedB.until(() => callsB.length >= 2, 'a failed batch retried');
    await stop(b);
    expect(callsB.every((ids) => ids.join() === 'b1,b2')).toBe(true);
    expect(await committed(t.group, t.input)).toEqual(afterA);

    // 3. The next consumer gets the uncommitted batch again, and nothing that was committed.
    const seenC: string[] = [];
    const changedC = signal();
    const c = consume({
      groupId: t.group,
      topics: [t.input],
      schema: ZStatusEvent,
      deadLetterTopic: t.deadLetter,
      handleBatch: async ({ messages }) => {
        seenC.push(...messages.map((m) => m.message.eventId));
        changedC.notify();
      },
    });
    await c.start();
    await changedC.until(() => seenC.length >= 2, 'the redelivered batch');
    await stop(c);
    expect(seenC).toEqual(second);
    expect(await committed(t.group, t.input)).toEqual({ 0: '5', 1: '-1' });
    expect(await highWatermarks(t.deadLetter)).toEqual({ 0: '0' });
  });

  it('dead-letters malformed messages with the reason and where they came from, and handles the valid ones', async () => {
    const t = await setup();
    const registry = createMetricsRegistry('consumer-test');
    // Telemetry is off here: headers go through as they are (dead letters keep them all).
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const valid = statusEvent('valid-1');
    const { eventId: _, ...missingEventId } = statusEvent('x');
    const values = [
      encode(valid),
      Buffer.from('hello, not json'),
      Buffer.from(JSON.stringify({ ...statusEvent('v2'), v: 2 })),
      Buffer.from(JSON.stringify(missingEventId)),
      encode(statusEvent('valid-2')),
    ];
    const offsets = await produce(t.input, values, 1, { traceparent });
    const seen: string[] = [];
    const changed = signal();
    const consumer = consume({
      groupId: t.group,
      name: 'status-worker',
      topics: [t.input],
      schema: ZStatusEvent,
      deadLetterTopic: t.deadLetter,
      registry,
      handleBatch: async ({ messages }) => {
        seen.push(...messages.map((m) => m.message.eventId));
        changed.notify();
      },
    });
    await consumer.start();
    await changed.until(() => seen.length === 2, 'the valid messages');
    const letters = await readTopic(t.deadLetter, 3);
    expect(seen).toEqual(['valid-1', 'valid-2']);

    const parsed = letters.map((l) => parseDeadLetterHeaders(l.headers));
    expect(parsed.map((p) => (p.ok ? p.info.error : p.reason))).toEqual([
      expect.stringMatching(/^not JSON: Unexpected token/),
      'unsupported message version 2 (this consumer reads 1)',
      'field eventId: required',
    ]);
    for (const [i, p] of parsed.entries()) {
      expect(p.ok && p.info).toMatchObject({
        kind: 'invalid',
        originalTopic: t.input,
        originalPartition: 1,
        originalOffset: offsets[i + 1],
        originalKey: campaignId,
        consumer: 'status-worker',
        attempts: 0,
      });
      expect(letters[i]?.value).toEqual(values[i + 1]);
      expect(letters[i]?.key?.toString()).toBe(campaignId);
      expect(headerValue(letters[i]?.headers, 'traceparent')).toBe(traceparent);
    }

    await stop(consumer);
    expect(await committed(t.group, t.input)).toEqual({ 0: '-1', 1: '5' });
    const labels = { group: 'status-worker', topic: t.input };
    expect(await metricValue(registry, 'kafka_consumer_messages_processed_total', labels)).toBe(2);
    expect(
      await metricValue(registry, 'kafka_consumer_messages_dead_lettered_total', {
        ...labels,
        kind: 'invalid',
      }),
    ).toBe(3);
    expect(await metricValue(registry, 'kafka_consumer_lag', { ...labels, partition: '1' })).toBe(0);
    const text = await registry.metrics();
    expect(text).toMatch(
      /\nkafka_consumer_batch_duration_seconds_count\{[^}]*group="status-worker"[^}]*\} \d+\n/,
    );
  });

  it('retries a failing batch, then finds the poison message alone and dead-letters it; the others succeed', async () => {
    const t = await setup();
    const ids = ['p1', 'p2', 'poison', 'p4'];
    const offsets = await produce(
      t.input,
      ids.map((id) => encode(statusEvent(id))),
    );
    const done: string[] = [];
    const calls: string[][] = [];
    const changed = signal();
    const consumer = consume({
      groupId: t.group,
      topics: [t.input],
      schema: ZStatusEvent,
      deadLetterTopic: t.deadLetter,
      maxAttempts: 3,
      handleBatch: async ({ messages }) => {
        const batch = messages.map((m) => m.message.eventId);
        calls.push(batch);
        if (batch.includes('poison')) throw new Error('cannot handle poison');
        done.push(...batch);
        changed.notify();
      },
    });
    await consumer.start();
    const [letter] = await readTopic(t.deadLetter, 1);
    await changed.until(() => done.length === 3, 'the good messages');
    expect(done).toEqual(['p1', 'p2', 'p4']);
    // Three calls with the batch, then each alone: p1, then poison three times, then p4.
    expect(calls).toEqual([ids, ids, ids, ['p1'], ['p2'], ['poison'], ['poison'], ['poison'], ['p4']]);
    const parsed = parseDeadLetterHeaders(letter?.headers);
    expect(parsed.ok && parsed.info).toMatchObject({
      kind: 'failed',
      error: 'Error: cannot handle poison',
      originalOffset: offsets[2],
      attempts: 6,
    });
    expect(JSON.parse(String(letter?.value)).eventId).toBe('poison');
    await stop(consumer);
    expect(await committed(t.group, t.input)).toEqual({ 0: '4', 1: '-1' });
  });

  it('retries a RetryableError without counting it towards maxAttempts, and never dead-letters it', async () => {
    const t = await setup();
    const registry = createMetricsRegistry('consumer-test');
    await produce(
      t.input,
      ['r1', 'r2'].map((id) => encode(statusEvent(id))),
    );
    let databaseUp = false;
    let failures = 0;
    const done: string[] = [];
    const changed = signal();
    const consumer = consume({
      groupId: t.group,
      topics: [t.input],
      schema: ZStatusEvent,
      deadLetterTopic: t.deadLetter,
      registry,
      maxAttempts: 1,
      handleBatch: async ({ messages }) => {
        if (!databaseUp) {
          failures++;
          changed.notify();
          throw new RetryableError('database unavailable', { cause: new Error('ECONNREFUSED') });
        }
        done.push(...messages.map((m) => m.message.eventId));
        changed.notify();
      },
    });
    await consumer.start();
    // Far more failures than maxAttempts (1), each after a backoff of the runtime's own.
    await changed.until(() => failures >= 6, 'six retryable failures');
    databaseUp = true;
    await changed.until(() => done.length === 2, 'the batch after recovery');
    await stop(consumer);
    expect(done).toEqual(['r1', 'r2']);
    expect(await committed(t.group, t.input)).toEqual({ 0: '2', 1: '-1' });
    expect(await highWatermarks(t.deadLetter)).toEqual({ 0: '0' });
    const labels = { group: t.group, topic: t.input, kind: 'retryable' };
    expect(await metricValue(registry, 'kafka_consumer_retries_total', labels)).toBe(failures);
  });

  it('stop() waits for the batch in flight, commits it, then leaves', async () => {
    const t = await setup();
    await produce(
      t.input,
      ['s1', 's2'].map((id) => encode(statusEvent(id))),
    );
    const entered = deferred();
    const release = deferred();
    const consumer = consume({
      groupId: t.group,
      topics: [t.input],
      schema: ZStatusEvent,
      deadLetterTopic: t.deadLetter,
      handleBatch: async () => {
        entered.resolve();
        await release.promise;
      },
    });
    await consumer.start();
    await within(entered.promise, 'the handler');
    let stopped = false;
    const stopping = consumer.stop().then(() => {
      stopped = true;
    });
    expect(consumer.isReady()).toBe(false);
    // A round trip to Kafka while the handler still runs: nothing committed, not stopped.
    expect(await committed(t.group, t.input)).toEqual({ 0: '-1', 1: '-1' });
    expect(stopped).toBe(false);
    release.resolve();
    await within(stopping, 'stop()');
    running.delete(consumer);
    expect(await committed(t.group, t.input)).toEqual({ 0: '2', 1: '-1' });
  });

  it('keeps its partitions through a batch longer than the session timeout (it heartbeats in the background)', async () => {
    const t = await setup();
    await produce(t.input, [encode(statusEvent('long'))]);
    let calls = 0;
    const consumer = consume({
      groupId: t.group,
      topics: [t.input],
      schema: ZStatusEvent,
      deadLetterTopic: t.deadLetter,
      // The broker's shortest; the handler below is silent for longer.
      sessionTimeout: 6_000,
      heartbeatInterval: 500,
      handleBatch: async () => {
        calls++;
        // Time passing is what is tested: a batch busy (a slow transaction) past the session timeout.
        if (calls === 1) await new Promise((resolve) => setTimeout(resolve, 7_500));
      },
    });
    await consumer.start();
    const deadline = Date.now() + 30_000;
    while ((await committed(t.group, t.input))[0] !== '1') {
      if (Date.now() > deadline) throw new Error('the batch was never committed');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Still a member when it finished: its commit went through, and nothing was handed out again.
    expect(calls).toBe(1);
    await stop(consumer);
  }, 40_000);

  it('pauses one partition until a message is due while the other keeps flowing', async () => {
    const t = await setup();
    const handled: { id: string; at: number }[] = [];
    const changed = signal();
    const consumer = consume({
      groupId: t.group,
      topics: [t.input],
      schema: ZRetry,
      deadLetterTopic: t.deadLetter,
      // Like the retry worker: forward what is due, stop at the first message that is not.
      handleBatch: async (batch) => {
        for (const m of batch.messages) {
          const dueAt = new Date(m.message.dueAt);
          if (dueAt.getTime() > Date.now()) {
            batch.pause(m, dueAt);
            break;
          }
          handled.push({ id: retryLabels.get(m.message.callId) ?? '?', at: Date.now() });
        }
        changed.notify();
      },
    });
    await produce(t.input, [encode(retryMessage('p1-first', new Date()))], 1);
    await consumer.start();
    await changed.until(() => handled.some((h) => h.id === 'p1-first'), 'partition 1');

    // Partition 0: one message due, one due later, one due now behind it (their order is kept).
    const due = new Date(Date.now() + 1500);
    const past = new Date(Date.now() - 1000);
    const offsets0 = await produce(t.input, [
      encode(retryMessage('p0-now', past)),
      encode(retryMessage('p0-later', due)),
      encode(retryMessage('p0-behind', past)),
    ]);
    await changed.until(() => handled.some((h) => h.id === 'p0-now'), 'the due message of partition 0');
    // Partition 1 keeps flowing while partition 0 waits (fetched after partition 0's batch was done).
    await produce(t.input, [encode(retryMessage('p1-second', new Date()))], 1);
    await changed.until(() => handled.some((h) => h.id === 'p1-second'), 'partition 1 during the pause');
    expect(handled.some((h) => h.id === 'p0-later')).toBe(false);
    expect(consumer.paused()).toEqual([{ topic: t.input, partition: 0, resumeAt: expect.any(Number) }]);
    expect(consumer.paused()[0]?.resumeAt).toBeLessThanOrEqual(due.getTime());
    // Committed up to the message that is not due yet.
    expect((await committed(t.group, t.input))[0]).toBe(offsets0[1]);

    await changed.until(() => handled.some((h) => h.id === 'p0-behind'), 'partition 0 after its pause');
    expect(handled.filter((h) => h.id.startsWith('p0')).map((h) => h.id)).toEqual([
      'p0-now',
      'p0-later',
      'p0-behind',
    ]);
    const later = handled.find((h) => h.id === 'p0-later');
    expect(later?.at).toBeGreaterThanOrEqual(due.getTime());
    expect(consumer.paused()).toEqual([]);
    await stop(consumer);
    expect(await committed(t.group, t.input)).toEqual({ 0: '3', 1: '2' });
    expect(await highWatermarks(t.deadLetter)).toEqual({ 0: '0' });
  });

  it('waits KAFKA_FETCH_LINGER_MS for more messages: messages 50 ms apart come in one or two batches, not one each', async () => {
    const lingering = createKafka(
      { ...config, KAFKA_FETCH_LINGER_MS: 1000 },
      logger,
      'consumer-int-test-linger',
    );
    /** Batch sizes seen after a first message, while 8 messages are produced one by one 50 ms apart. */
    async function batchesOfSpacedMessages(fetchLinger: boolean): Promise<number[]> {
      const t = await setup(1);
      const batches: number[] = [];
      let handled = 0;
      const changed = signal();
      const consumer = createBatchConsumer<TStatusEvent>({
        kafka: lingering,
        ...fast,
        maxWaitTimeInMs: undefined,
        fetchLinger,
        groupId: t.group,
        topics: [t.input],
        schema: ZStatusEvent,
        deadLetterTopic: t.deadLetter,
        handleBatch: async (batch) => {
          handled += batch.messages.length;
          if (handled > 1) batches.push(batch.messages.length);
          changed.notify();
        },
      });
      running.add(consumer);
      await produce(t.input, [encode(statusEvent(randomUUID()))]);
      await consumer.start();
      await changed.until(() => handled === 1, 'the first message');
      for (let i = 0; i < 8; i++) {
        await produce(t.input, [encode(statusEvent(randomUUID()))]);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await changed.until(() => handled === 9, 'the 8 spaced messages');
      await stop(consumer);
      return batches;
    }
    const lingered = await batchesOfSpacedMessages(true);
    expect(lingered.length).toBeLessThanOrEqual(2);
    // The live bridge's way: each fetch answered as soon as there is a message.
    const eager = await batchesOfSpacedMessages(false);
    expect(eager.length).toBeGreaterThanOrEqual(4);
  });

  it("continues each message's trace with a process span, and what a batched send produces for it with a send span", async () => {
    const t = await setup();
    const capture = captureSpans();
    try {
      // One message sent in an operation's span, one without any trace context (as an older producer would).
      await withSpan('upstream', {}, () => produce(t.input, [encode(statusEvent('traced'))], 0));
      await producer.producer.send({
        topic: t.input,
        messages: [{ key: campaignId, value: encode(statusEvent('untraced')), partition: 0 }],
      });
      const received: { id: string; traceId: string | undefined }[] = [];
      const consumer = consume({
        groupId: t.group,
        topics: [t.input],
        schema: ZStatusEvent,
        deadLetterTopic: t.deadLetter,
        handleBatch: async ({ messages }) => {
          received.push(...messages.map((m) => ({ id: m.message.eventId, traceId: traceIdOf(m.trace) })));
          const out: Message[] = messages.map((m) => ({
            key: m.key,
            value: encode(m.message),
            headers: traceHeaders(m.trace),
          }));
          await producer.send(t.output, out);
        },
      });
      await consumer.start();
      const out = await readTopic(t.output, 2);
      await stop(consumer);

      const spans = capture.spans();
      const named = (name: string) => spans.filter((s) => s.name === name);
      const upstream = named('upstream')[0];
      const [sentIn] = named(`send ${t.input}`);
      const processed = named(`process ${t.input}`);
      const sentOut = named(`send ${t.output}`);
      const [batch] = named(`process batch ${t.input}`);
      const traceId = upstream?.spanContext().traceId;
      expect(received.map((r) => r.id)).toEqual(['traced', 'untraced']);
      expect(received[0]?.traceId).toBe(traceId);
      expect(received[1]?.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(received[1]?.traceId).not.toBe(traceId);

      // upstream → send in → process (traced) → send out, one trace.
      expect(parentSpanIdOf(sentIn)).toBe(upstream?.spanContext().spanId);
      const tracedProcess = processed.find((p) => p.spanContext().traceId === traceId);
      expect(parentSpanIdOf(tracedProcess)).toBe(sentIn?.spanContext().spanId);
      const tracedOut = sentOut.find((p) => p.spanContext().traceId === traceId);
      expect(parentSpanIdOf(tracedOut)).toBe(tracedProcess?.spanContext().spanId);
      // The untraced message starts a trace at its process span, which its output continues.
      const untracedProcess = processed.find((p) => p !== tracedProcess);
      expect(parentSpanIdOf(untracedProcess)).toBeUndefined();
      const untracedOut = sentOut.find((p) => p !== tracedOut);
      expect(parentSpanIdOf(untracedOut)).toBe(untracedProcess?.spanContext().spanId);
      // The output messages carry their send spans' context.
      expect(out.map((m) => trace.getSpanContext(contextFromHeaders(m.headers))?.spanId)).toEqual([
        tracedOut?.spanContext().spanId,
        untracedOut?.spanContext().spanId,
      ]);
      // The batch's span is a trace of its own, linked to both messages'.
      expect(parentSpanIdOf(batch)).toBeUndefined();
      expect(batch?.links.map((l) => l.context.spanId).sort()).toEqual(
        processed.map((p) => p.spanContext().spanId).sort(),
      );
    } finally {
      await capture.stop();
    }
  });
});
