import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { createKafka, createProducer, ensureTopics, topicNames } from '@outbound/bus';
import { ZCallFlow } from '@outbound/call-flow';
import { type RunningSimulator, type SimBehaviourPatch, startSimulator } from '@outbound/carrier-sim';
import { databaseEnv, kafkaEnv, parseEnv, redisEnv } from '@outbound/config';
import {
  contextFromHeaders,
  encode,
  headerValue,
  type KafkaHeaders,
  type TDispatch,
  type TStatusEvent,
  traceHeaders,
  traceIdOf,
} from '@outbound/contracts';
import {
  campaignSlotsKey,
  createRedisClient,
  LeaseSemaphore,
  paceOf,
  SlidingWindowLimiter,
} from '@outbound/coordination';
import { createPool } from '@outbound/db';
import { createScratchDatabase, type ScratchDatabase } from '@outbound/db/testing';
import { createLogger, createMetricsRegistry } from '@outbound/observability';
import {
  type CapturedSpans,
  captureSpans,
  parentSpanIdOf,
  rootContext,
} from '@outbound/observability/testing';
import { STATUS_CALLBACK_EVENTS, TwilioProvider } from '@outbound/telephony';
import type { Redis } from 'ioredis';
import type { Consumer } from 'kafkajs';
import type pg from 'pg';
import type { Registry } from 'prom-client';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CallWorker, createCallWorker } from './call-worker.ts';
import { campaignCpsKey } from './dial.ts';

// The worker in-process against a scratch database, the stack's Redis and Kafka (topics under a prefix of this
// run's own, deleted afterwards) and the carrier simulator over HTTP. One worker serves every test; each test has
// its own campaigns, so the simulator's per-campaign and per-attempt statistics are the test's own.

const logger = createLogger({ service: 'call-worker-test', level: 'silent' });
const authToken = randomBytes(24).toString('hex');
const prefix = `test.callworker.${randomBytes(4).toString('hex')}.`;
const kafkaConfig = { ...parseEnv(kafkaEnv, process.env), KAFKA_TOPIC_PREFIX: prefix, KAFKA_PARTITIONS: 2 };
const topics = topicNames(kafkaConfig);
const kafka = createKafka(kafkaConfig, logger, 'call-worker-int-test');
const producer = createProducer(kafka);

/**
 * Quick calls that all answer, no CPS limit at the carrier: tests change what they are about. No call flow (nothing
 * serves one here): an answered call talks `talkMs`.
 */
const FAST: SimBehaviourPatch = {
  flows: false,
  cps: 0,
  outcomes: { answered: 1, busy: 0, noAnswer: 0, failed: 0, voicemail: 0, rejected: 0 },
  ringMs: { min: 5, max: 10 },
  talkMs: { min: 20, max: 50 },
  apiLatencyMs: { min: 0, max: 2 },
  callbackLatencyMs: { min: 0, max: 2 },
  failures: { createError: 0, duplicateCallback: 0, outOfOrderCallback: 0, dropCallback: 0 },
};

let scratch: ScratchDatabase;
let pool: pg.Pool;
let redis: Redis;
let sim: RunningSimulator;
let sink: Server;
/** The sink's base URL, the worker's WEBHOOK_PUBLIC_URL. */
let sinkUrl: string;
/** The Calls form of every originate, as the carrier received it. */
const creates: URLSearchParams[] = [];
let provider: TwilioProvider;
let registry: Registry;
let worker: CallWorker;
let observer: Consumer;
/** Telemetry on for this file (in memory): the dials' traces are checked. */
let capture: CapturedSpans;

interface Seen {
  topic: string;
  key: string | null;
  value: string;
  headers: KafkaHeaders;
}
const seen: Seen[] = [];

/** Polls `check` until it holds (bounded): no fixed sleeps. */
async function until<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  ms = 20_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const statusEvents = (campaignId: string): (TStatusEvent & { headers: KafkaHeaders })[] =>
  seen
    .filter((s) => s.topic === topics.status && s.key === campaignId)
    .map((s) => ({ ...(JSON.parse(s.value) as TStatusEvent), headers: s.headers }));

beforeAll(async () => {
  capture = captureSpans();
  scratch = await createScratchDatabase(parseEnv(databaseEnv, process.env).DATABASE_URL, 'call_worker');
  pool = createPool({ DATABASE_URL: scratch.url, DATABASE_POOL_SIZE: 20 });
  redis = createRedisClient(parseEnv(redisEnv, process.env), logger, 'call-worker-test');
  await ensureTopics(kafka, kafkaConfig, logger);
  await producer.connect();

  sim = await startSimulator({ authToken, behaviour: FAST });
  // Stands in for the carrier ingress: takes the simulator's requests and says nothing.
  sink = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
  provider = new TwilioProvider({
    baseUrl: sim.url,
    accountSid: sim.accountSid,
    authToken,
    // Every callback the carrier can send, to see them all.
    statusCallbackEvents: STATUS_CALLBACK_EVENTS,
    timeoutMs: 5_000,
    // Its own provider CPS bucket in the shared Redis.
    name: `sim-${randomBytes(4).toString('hex')}`,
    dispatcher: new Agent().compose((dispatch) => (options, handler) => {
      if (options.method === 'POST' && options.path.endsWith('/Calls.json'))
        creates.push(new URLSearchParams(String(options.body)));
      return dispatch(options, handler);
    }),
  });

  observer = kafka.consumer({ groupId: `${prefix}observer`, maxWaitTimeInMs: 100 });
  await observer.connect();
  await observer.subscribe({ topics: [topics.status, topics.deadLetter], fromBeginning: true });
  await observer.run({
    eachMessage: async ({ topic, message }) => {
      seen.push({
        topic,
        key: message.key?.toString('utf8') ?? null,
        value: message.value?.toString('utf8') ?? '',
        headers: (message.headers ?? {}) as KafkaHeaders,
      });
    },
  });

  registry = createMetricsRegistry('call-worker-test');
  worker = startWorker(registry);
  await worker.start();
  await until(() => worker.isReady(), 'the worker to join its group', 30_000);
});

/** A worker on this file's engines; `groupId` another than the default makes it a second consumer of everything. */
function startWorker(metrics: Registry, groupId?: string): CallWorker {
  return createCallWorker({
    config: {
      ...kafkaConfig,
      CALL_WORKER_CONCURRENCY: 50,
      LEASE_TTL_MS: 120_000,
      // Only the pass at start and after a reconnection: these tests play the status worker by hand, and calls
      // they leave DIALING would get their leases back from a periodic pass (lease-reconciliation.int.test.ts).
      LEASE_RECONCILE_INTERVAL_MS: 3_600_000,
      PROVIDER_CPS: 1000,
      PACING_BURST_FRACTION: 1,
      TELEPHONY_TIMEOUT_MS: 5_000,
      WEBHOOK_PUBLIC_URL: sinkUrl,
      CAMPAIGN_CACHE_MS: 200,
      DIAL_GATE_WINDOW_MS: 100,
      // Short, for the test of a dial that waits too long for its place once DIALING.
      PACE_WAIT_MAX_MS: 3_000,
    },
    pool,
    redis,
    kafka,
    producer,
    provider,
    logger,
    registry: metrics,
    ...(groupId ? { groupId } : {}),
  });
}

afterAll(async () => {
  await worker?.stop();
  await capture?.stop();
  await observer?.disconnect();
  await producer.disconnect();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(topics).flat() }).catch(() => undefined);
  await admin
    .deleteGroups([`${prefix}call-worker`, `${prefix}call-worker-2`, `${prefix}observer`])
    .catch(() => undefined);
  await admin.disconnect();
  await sim?.stop();
  await new Promise<void>((resolve) => {
    if (!sink) return resolve();
    sink.closeAllConnections();
    sink.close(() => resolve());
  });
  await redis?.quit();
  await pool?.end();
  await scratch?.drop();
});

const ALL_WEEK = [1, 2, 3, 4, 5, 6, 7].map((day) => ({ day, start: '00:00', end: '24:00' }));

interface Campaign {
  id: string;
  tenantId: string;
  calls: { id: string; attemptId: string; phone: string; timezone: string }[];
}

/** A campaign with `n` QUEUED calls (attempt 1 each, counters to match), as the scheduler leaves them. */
async function campaign(
  options: {
    n?: number;
    status?: 'RUNNING' | 'PAUSED' | 'DRAFT' | 'CANCELLED';
    max?: number;
    cps?: number;
    callingWindow?: { start: number; end: number };
    phones?: string[];
    timezone?: string;
    /** A call flow version (of this machine action) the campaign runs. */
    flow?: { version: number; machine: 'HANG_UP' | 'LEAVE_MESSAGE' };
  } = {},
): Promise<Campaign> {
  const n = options.phones?.length ?? options.n ?? 1;
  const tenantId = randomUUID();
  const id = randomUUID();
  await pool.query('INSERT INTO tenants (id, name, slug, updated_at) VALUES ($1, $2, $3, now())', [
    tenantId,
    'T',
    `t-${tenantId}`,
  ]);
  await pool.query(
    `INSERT INTO campaigns (id, tenant_id, name, status, timezone, business_hours, calling_window_start,
       calling_window_end, max_concurrent_calls, calls_per_second, caller_id, retry_max_attempts,
       retry_base_delay_ms, retry_max_delay_ms, retry_jitter, retry_on, updated_at)
     VALUES ($1, $2, 'C', $3, 'UTC', $4, $5, $6, $7, $8, '+442079460000', 3, 1000, 10000, 0, '{BUSY}', now())`,
    [
      id,
      tenantId,
      options.status ?? 'RUNNING',
      JSON.stringify(ALL_WEEK),
      options.callingWindow?.start ?? 0,
      options.callingWindow?.end ?? 24 * 60,
      options.max ?? 100,
      options.cps ?? 1000,
    ],
  );
  if (options.flow) {
    const machine =
      options.flow.machine === 'HANG_UP'
        ? { action: 'HANG_UP' }
        : { action: 'LEAVE_MESSAGE', message: { kind: 'SAY', text: 'Please call us back.' } };
    await pool.query('INSERT INTO call_flows (campaign_id, version, flow) VALUES ($1, $2, $3)', [
      id,
      options.flow.version,
      JSON.stringify(ZCallFlow.parse({ message: { kind: 'SAY', text: 'Hello.' }, machine })),
    ]);
    await pool.query('UPDATE campaigns SET flow_version = $2 WHERE id = $1', [id, options.flow.version]);
  }
  const calls = Array.from({ length: n }, (_, i) => ({
    id: randomUUID(),
    attemptId: randomUUID(),
    phone: options.phones?.[i] ?? `+4420794${String(i).padStart(5, '0')}`,
    timezone: options.timezone ?? 'UTC',
  }));
  await pool.query(
    `INSERT INTO calls (id, tenant_id, campaign_id, phone_number, timezone, status, attempts, current_attempt_id)
     SELECT t.id, t.tenant, t.campaign, t.phone, t.zone, 'QUEUED', 1, t.attempt
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::uuid[])
       AS t(id, tenant, campaign, phone, zone, attempt)`,
    [
      calls.map((c) => c.id),
      calls.map(() => tenantId),
      calls.map(() => id),
      calls.map((c) => c.phone),
      calls.map((c) => c.timezone),
      calls.map((c) => c.attemptId),
    ],
  );
  await pool.query(
    `INSERT INTO campaign_counters (campaign_id, tenant_id, total, queued, attempts) VALUES ($1, $2, $3, $3, $3)`,
    [id, tenantId, n],
  );
  return { id, tenantId, calls };
}

function dispatchOf(c: Campaign, call: Campaign['calls'][number]): TDispatch {
  return {
    v: 1,
    kind: 'dispatch',
    tenantId: c.tenantId,
    campaignId: c.id,
    callId: call.id,
    attemptId: call.attemptId,
    attempt: 1,
    phoneNumber: /^\+[1-9]\d{6,14}$/.test(call.phone) ? call.phone : '+442079469999',
    callerId: '+442079460000',
    timezone: call.timezone,
    fencingToken: 1,
    queuedAt: new Date().toISOString(),
  };
}

/** Publishes dispatch messages keyed by campaign id, each in a trace of its own; returns their trace ids. */
async function dispatch(messages: TDispatch[]): Promise<string[]> {
  const traces = messages.map(() => rootContext('test dispatch'));
  await producer.send(
    topics.dispatch,
    messages.map((m, i) => ({
      key: m.campaignId,
      value: encode(m),
      headers: traceHeaders(traces[i]),
    })),
  );
  return traces.map((t) => traceIdOf(t) as string);
}

/** The ended span named `name` whose attribute `outbound.attempt.id` is `attemptId`. */
const spanOfAttempt = (name: string, attemptId: string) =>
  until(
    () => capture.spans().find((s) => s.name === name && s.attributes['outbound.attempt.id'] === attemptId),
    `the ${name} span of ${attemptId}`,
  );

async function rows(campaignId: string) {
  const result = await pool.query(
    `SELECT id, status::text AS status, attempts, current_attempt_id, skip_reason, last_dialed_at
     FROM calls WHERE campaign_id = $1 ORDER BY id`,
    [campaignId],
  );
  return result.rows as {
    id: string;
    status: string;
    attempts: number;
    current_attempt_id: string | null;
    skip_reason: string | null;
    last_dialed_at: Date | null;
  }[];
}

async function expectCountersMatchRows(campaignId: string) {
  const byStatus = await pool.query(
    `SELECT status::text AS status, count(*)::int AS n, sum(attempts)::int AS attempts
     FROM calls WHERE campaign_id = $1 GROUP BY status`,
    [campaignId],
  );
  const count = (status: string) => byStatus.rows.find((r) => r.status === status)?.n ?? 0;
  const counters = (
    await pool.query(
      `SELECT total, pending, queued, dialing, in_progress, retry_scheduled, completed, failed, skipped, cancelled,
              attempts
       FROM campaign_counters WHERE campaign_id = $1`,
      [campaignId],
    )
  ).rows[0];
  expect(counters).toEqual({
    total: byStatus.rows.reduce((sum, r) => sum + r.n, 0),
    pending: count('PENDING'),
    queued: count('QUEUED'),
    dialing: count('DIALING'),
    in_progress: count('IN_PROGRESS'),
    retry_scheduled: count('RETRY_SCHEDULED'),
    completed: count('COMPLETED'),
    failed: count('FAILED'),
    skipped: count('SKIPPED'),
    cancelled: count('CANCELLED'),
    attempts: byStatus.rows.reduce((sum, r) => sum + r.attempts, 0),
  });
}

const createsOf = (attemptId: string) => sim.stats().createsByAttempt[attemptId] ?? 0;

async function metric(name: string, labels: Record<string, string> = {}, from = registry): Promise<number> {
  const found = (await from.getSingleMetric(name)?.get())?.values ?? [];
  return found
    .filter((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))
    .reduce((sum, v) => sum + v.value, 0);
}

/** Whether `groupId` has committed every message of the dispatch topic. */
async function caughtUp(groupId: string): Promise<boolean> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(topics.dispatch);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topics.dispatch] });
    // An empty partition has nothing to commit (-1).
    return ends.every((end) => {
      const offset = committed?.partitions.find((p) => p.partition === end.partition)?.offset;
      return offset === end.high || (end.high === '0' && offset === '-1');
    });
  } finally {
    await admin.disconnect();
  }
}

/** Waits until every call of `c` has left QUEUED (dialled or settled). */
const settledAll = (c: Campaign) =>
  until(async () => {
    const now = await rows(c.id);
    return now.every((r) => r.status !== 'QUEUED') && now;
  }, `the calls of ${c.id} to leave QUEUED`);

describe('call-worker', () => {
  it('dials queued calls once each: DIALING, one create per attempt at the carrier, initiated events', async () => {
    const c = await campaign({ n: 5 });
    const dispatched = c.calls.map((call) => dispatchOf(c, call));
    const traces = await dispatch(dispatched);

    const events = await until(() => {
      const found = statusEvents(c.id);
      return found.length >= 5 && found;
    }, 'five initiated events');
    expect(events).toHaveLength(5);
    for (const [i, call] of c.calls.entries()) {
      const event = events.find((e) => e.attemptId === call.attemptId);
      expect(event).toMatchObject({
        v: 1,
        kind: 'status',
        eventId: `${call.attemptId}:originated`,
        event: 'initiated',
        tenantId: c.tenantId,
        campaignId: c.id,
        callId: call.id,
        attempt: 1,
        providerCallId: expect.stringMatching(/^CA[0-9a-f]{32}$/),
        // When it was dispatched, for the call's history.
        queuedAt: dispatched[i]?.queuedAt,
      });
      // The dispatch's trace goes on: process (the dispatch) → dial → send (the status event), whose context the
      // event carries; the carrier's callbacks get the dial's in their URL (they send no trace headers).
      const dial = await spanOfAttempt('dial', call.attemptId);
      expect(dial.spanContext().traceId).toBe(traces[i]);
      // (A process span ends when its batch is committed, after the dials.)
      const processed = await until(
        () => capture.spans().find((s) => s.spanContext().spanId === parentSpanIdOf(dial)),
        'the process span of the dispatch',
      );
      expect(processed?.name).toBe(`process ${topics.dispatch}`);
      const sent = trace.getSpanContext(contextFromHeaders(event?.headers));
      expect(sent?.traceId).toBe(traces[i]);
      const send = capture.spans().find((s) => s.spanContext().spanId === sent?.spanId);
      expect(send?.name).toBe(`send ${topics.status}`);
      expect(parentSpanIdOf(send)).toBe(dial.spanContext().spanId);
      const create = creates.find((form) => form.get('StatusCallback')?.includes(call.attemptId));
      const callbackUrl = new URL(create?.get('StatusCallback') ?? '');
      expect(callbackUrl.searchParams.get('traceparent')).toBe(
        `00-${traces[i]}-${dial.spanContext().spanId}-01`,
      );
      expect(createsOf(call.attemptId)).toBe(1);
    }
    const now = await rows(c.id);
    expect(now.map((r) => r.status)).toEqual(Array(5).fill('DIALING'));
    expect(now.every((r) => r.last_dialed_at instanceof Date && r.attempts === 1)).toBe(true);
    expect(sim.stats().campaigns[c.id]?.creates).toBe(5);
    await expectCountersMatchRows(c.id);
    expect(await metric('call_worker_originated_total')).toBeGreaterThanOrEqual(5);
    expect(await metric('call_worker_originate_duration_seconds', { result: 'accepted' })).toBeGreaterThan(0);
  });

  it("originates with the call flow version its campaign runs and that flow's machine detection, every URL on WEBHOOK_PUBLIC_URL", async () => {
    const withFlow = await campaign({ flow: { version: 4, machine: 'LEAVE_MESSAGE' } });
    const hangsUp = await campaign({ flow: { version: 2, machine: 'HANG_UP' } });
    const without = await campaign();
    const all = [withFlow, hangsUp, without];
    await dispatch(all.map((c) => dispatchOf(c, c.calls[0] as Campaign['calls'][number])));
    const [a, b, c] = await Promise.all(
      all.map((campaign) => {
        const call = campaign.calls[0] as Campaign['calls'][number];
        return until(
          () => creates.find((form) => form.get('StatusCallback')?.includes(call.attemptId)),
          'the originate',
        );
      }),
    );
    // The attempt's ids, and the dial's trace context (telemetry is on in this file).
    const ids = async (c: Campaign) => {
      const call = c.calls[0] as Campaign['calls'][number];
      const dial = (await spanOfAttempt('dial', call.attemptId)).spanContext();
      return `tenantId=${c.tenantId}&campaignId=${c.id}&callId=${call.id}&attemptId=${call.attemptId}&attempt=1&traceparent=00-${dial.traceId}-${dial.spanId}-01`;
    };
    const [idsA, idsB, idsC] = await Promise.all(all.map(ids));
    expect(Object.fromEntries(a ?? [])).toMatchObject({
      Url: `${sinkUrl}/flows/twilio/voice?${idsA}&flow=4`,
      Method: 'POST',
      FallbackUrl: `${sinkUrl}/flows/twilio/fallback?${idsA}&flow=4`,
      FallbackMethod: 'POST',
      StatusCallback: `${sinkUrl}/webhooks/twilio/status?${idsA}`,
      MachineDetection: 'DetectMessageEnd',
    });
    expect(Object.fromEntries(b ?? [])).toMatchObject({
      Url: `${sinkUrl}/flows/twilio/voice?${idsB}&flow=2`,
      MachineDetection: 'Enable',
    });
    expect(Object.fromEntries(c ?? [])).toMatchObject({
      Url: `${sinkUrl}/flows/twilio/voice?${idsC}&flow=none`,
      FallbackUrl: `${sinkUrl}/flows/twilio/fallback?${idsC}&flow=none`,
      MachineDetection: 'Enable',
    });
  });

  it('never dials an attempt twice: duplicates in one batch and a redelivery after the dial', async () => {
    const c = await campaign({ n: 2 });
    const [first, sentinel] = c.calls as [Campaign['calls'][number], Campaign['calls'][number]];
    const message = dispatchOf(c, first);
    await dispatch([message, message, message]);
    await until(() => statusEvents(c.id).length >= 1, 'the first dial');
    // Redelivered once the call is DIALING; then another call of the same campaign (same partition, so it is
    // handled after the redelivery) tells when the redelivery was handled.
    await dispatch([message]);
    await dispatch([dispatchOf(c, sentinel)]);
    await until(
      () => statusEvents(c.id).some((e) => e.attemptId === sentinel.attemptId),
      'the sentinel call to be dialled',
    );

    expect(createsOf(first.attemptId)).toBe(1);
    expect(statusEvents(c.id).filter((e) => e.attemptId === first.attemptId)).toHaveLength(1);
    expect(sim.stats().duplicateAttempts).toEqual([]);
    // The redelivery found the call DIALING and left its lease (the live call's) alone.
    expect(await redis.zscore(campaignSlotsKey(c.id), first.attemptId)).not.toBeNull();
    expect(await metric('call_worker_ignored_total', { reason: 'duplicate' })).toBeGreaterThanOrEqual(2);
    await expectCountersMatchRows(c.id);
  });

  it('dials once when two workers get the same message at once (a redelivery after a rebalance)', async () => {
    // A second worker in its own group receives every message too: both find the call QUEUED, so only the
    // conditional QUEUED → DIALING keeps one of them from dialling it.
    const secondRegistry = createMetricsRegistry('call-worker-test-2');
    const second = startWorker(secondRegistry, `${prefix}call-worker-2`);
    await second.start();
    try {
      await until(() => second.isReady(), 'the second worker to join its group', 30_000);
      const c = await campaign({ n: 1, cps: 1 });
      const call = c.calls[0] as Campaign['calls'][number];
      // A full pacing window (1 cps): both workers pass the batch's checks, then wait for their place, so they
      // reach the conditional update one after the other.
      const window = { key: campaignCpsKey(c.id), ...paceOf(1) };
      expect((await new SlidingWindowLimiter(redis).stamp('earlier', [window])).allowed).toBe(true);
      // The second worker first reads everything earlier tests published (duplicates among them): wait until it
      // has committed all of it, so the count below moves only for this test's message.
      await until(() => caughtUp(`${prefix}call-worker-2`), 'the second worker to catch up', 30_000);
      const duplicates = async () =>
        (await metric('call_worker_ignored_total', { reason: 'duplicate' })) +
        (await metric('call_worker_ignored_total', { reason: 'duplicate' }, secondRegistry));
      const before = await duplicates();
      await dispatch([dispatchOf(c, call)]);
      await until(async () => (await duplicates()) > before, 'the second dial to find the call DIALING');
      expect(createsOf(call.attemptId)).toBe(1);
      expect(statusEvents(c.id)).toHaveLength(1);
      expect(await redis.zscore(campaignSlotsKey(c.id), call.attemptId)).not.toBeNull();
      await expectCountersMatchRows(c.id);
    } finally {
      await second.stop();
    }
  });

  it('returns the calls of a paused campaign to PENDING without dialling (the attempt is given back)', async () => {
    const c = await campaign({ n: 3, status: 'PAUSED' });
    await dispatch(c.calls.map((call) => dispatchOf(c, call)));
    const now = await settledAll(c);
    expect(now.map((r) => [r.status, r.attempts, r.current_attempt_id])).toEqual(
      Array(3).fill(['PENDING', 0, null]),
    );
    expect(sim.stats().campaigns[c.id]).toBeUndefined();
    expect(statusEvents(c.id)).toEqual([]);
    expect(await redis.exists(campaignSlotsKey(c.id))).toBe(0);
    await expectCountersMatchRows(c.id);
    expect(await metric('call_worker_settled_without_dialing_total', { reason: 'campaign-paused' })).toBe(3);
  });

  it('cancels the calls of a cancelled campaign, skips do-not-call numbers, and holds closed windows back', async () => {
    const cancelled = await campaign({ n: 2, status: 'CANCELLED' });
    const dnc = await campaign({ n: 3 });
    await pool.query(`INSERT INTO do_not_call (tenant_id, phone_number, reason) VALUES ($1, $2, 'asked')`, [
      dnc.tenantId,
      dnc.calls[1]?.phone,
    ]);
    // The recipients' calling window (UTC) is the half of the day we are not in.
    const minute = new Date().getUTCHours() * 60 + new Date().getUTCMinutes();
    const closedWindow = minute < 720 ? { start: 720, end: 1440 } : { start: 0, end: 720 };
    const closed = await campaign({ n: 2, callingWindow: closedWindow });

    await dispatch(
      [...cancelled.calls, ...dnc.calls, ...closed.calls].map((call) => {
        const owner = [cancelled, dnc, closed].find((x) => x.calls.includes(call)) as Campaign;
        return dispatchOf(owner, call);
      }),
    );
    const [cancelledRows, dncRows, closedRows] = await Promise.all([
      settledAll(cancelled),
      settledAll(dnc),
      settledAll(closed),
    ]);

    // The attempt each was queued for never happened: given back.
    expect(cancelledRows.map((r) => [r.status, r.skip_reason, r.attempts, r.current_attempt_id])).toEqual(
      Array(2).fill(['CANCELLED', 'the campaign was cancelled', 0, null]),
    );
    const dncRow = dncRows.find((r) => r.id === dnc.calls[1]?.id);
    expect(dncRow).toMatchObject({
      status: 'SKIPPED',
      skip_reason: 'do-not-call',
      attempts: 0,
      current_attempt_id: null,
    });
    expect(dncRows.filter((r) => r.status === 'DIALING')).toHaveLength(2);
    expect(createsOf(dnc.calls[1]?.attemptId as string)).toBe(0);
    expect(closedRows.map((r) => [r.status, r.attempts, r.current_attempt_id])).toEqual(
      Array(2).fill(['PENDING', 0, null]),
    );
    for (const x of [cancelled, closed]) expect(sim.stats().campaigns[x.id]).toBeUndefined();
    for (const x of [cancelled, dnc, closed]) await expectCountersMatchRows(x.id);
    expect(await metric('call_worker_settled_without_dialing_total', { reason: 'do-not-call' })).toBe(1);
    expect(
      await metric('call_worker_settled_without_dialing_total', { reason: 'outside-calling-window' }),
    ).toBe(2);
  });

  it.each([
    ['CANCELLED', 'the campaign was cancelled'],
    ['SKIPPED', 'a keypad opt-out of its number in another campaign'],
  ] as const)(
    'gives back the lease a dead worker took for a call %s before the redelivery (%s)',
    async (status, _why) => {
      const c = await campaign({ n: 2 });
      const [ended, marker] = c.calls as [Campaign['calls'][number], Campaign['calls'][number]];
      const key = campaignSlotsKey(c.id);
      // A worker took the slot for the first call and died before its QUEUED → DIALING; then the call ended without
      // a dial (its attempt given back) before the dispatch came again.
      await new LeaseSemaphore(redis).acquire(key, ended.attemptId, 100, 120_000);
      await pool.query(
        `UPDATE calls SET status = $2, attempts = 0, current_attempt_id = NULL WHERE id = $1`,
        [ended.id, status],
      );
      const releasedBefore = await metric('call_worker_leases_released_total', { by: 'dispatch' });
      await dispatch([dispatchOf(c, ended), dispatchOf(c, marker)]);
      // The marker is in the same batch: once it is dialled, the ended one has been handled.
      await until(() => statusEvents(c.id).length >= 1, 'the marker dialled');
      expect(await redis.zscore(key, ended.attemptId)).toBeNull();
      expect(await redis.zscore(key, marker.attemptId)).not.toBeNull();
      expect(createsOf(ended.attemptId)).toBe(0);
      expect((await rows(c.id)).find((r) => r.id === ended.id)?.status).toBe(status);
      expect(await metric('call_worker_leases_released_total', { by: 'dispatch' })).toBe(releasedBefore + 1);
    },
  );

  it('skips a number put on the do-not-call list while its dial waited (checked right before the originate)', async () => {
    // 0.25 calls per second: the first call dials at once, the second waits about 4 s for its pacing token.
    const c = await campaign({ n: 2, cps: 0.25 });
    const [first, second] = c.calls as [Campaign['calls'][number], Campaign['calls'][number]];
    await dispatch([dispatchOf(c, first), dispatchOf(c, second)]);
    await until(() => statusEvents(c.id).length >= 1, 'the first call dialled');
    expect((await rows(c.id)).find((r) => r.id === second.id)?.status).toBe('QUEUED');
    await pool.query(`INSERT INTO do_not_call (tenant_id, phone_number, reason) VALUES ($1, $2, 'asked')`, [
      c.tenantId,
      second.phone,
    ]);
    const [, secondRow] = await settledAll(c).then((all) =>
      [first, second].map((call) => all.find((r) => r.id === call.id)),
    );
    expect(secondRow).toMatchObject({ status: 'SKIPPED', skip_reason: 'do-not-call', attempts: 0 });
    expect(createsOf(second.attemptId)).toBe(0);
    expect(await redis.zscore(campaignSlotsKey(c.id), second.attemptId)).toBeNull();
    await expectCountersMatchRows(c.id);
  });

  it('keeps at most maxConcurrentCalls at the carrier, waits for slots, and dials the rest as slots free up', async () => {
    sim.configure({ talkMs: { min: 600_000, max: 600_000 } });
    try {
      const c = await campaign({ n: 8, max: 3 });
      const slotWaitsBefore = await metric('call_worker_waits_total', { kind: 'slot' });
      await dispatch(c.calls.map((call) => dispatchOf(c, call)));
      await until(() => statusEvents(c.id).length >= 3, 'three calls dialled');
      await until(
        async () => (await metric('call_worker_waits_total', { kind: 'slot' })) > slotWaitsBefore,
        'the worker to wait for a slot',
      );
      expect(sim.stats().campaigns[c.id]).toMatchObject({ active: 3, creates: 3 });
      expect((await rows(c.id)).filter((r) => r.status === 'QUEUED')).toHaveLength(5);

      // Play the status worker: end each dialled call at the carrier, and once the carrier counts it as ended,
      // release its slot. The worker then dials the next ones.
      const semaphore = new LeaseSemaphore(redis);
      const ended = new Set<string>();
      while (ended.size < 8) {
        const live = await until(() => {
          const found = statusEvents(c.id).filter((e) => !ended.has(e.attemptId));
          return found.length > 0 && found;
        }, 'a dialled call to end');
        for (const event of live) {
          await provider.hangup(event.providerCallId as string);
          ended.add(event.attemptId);
        }
        await until(() => {
          const now = sim.stats().campaigns[c.id];
          return now !== undefined && now.active === now.creates - ended.size;
        }, 'the carrier to end the calls');
        for (const event of live) await semaphore.release(campaignSlotsKey(c.id), event.attemptId);
      }
      const stats = sim.stats().campaigns[c.id];
      expect(stats?.creates).toBe(8);
      expect(stats?.maxActive).toBeLessThanOrEqual(3);
      for (const call of c.calls) expect(createsOf(call.attemptId)).toBe(1);
      expect((await rows(c.id)).map((r) => r.status)).toEqual(Array(8).fill('DIALING'));
      await expectCountersMatchRows(c.id);
    } finally {
      sim.configure(FAST);
    }
  });

  it('puts back the leases of calls at the carrier after Redis lost them, before taking another slot', async () => {
    sim.configure({ talkMs: { min: 600_000, max: 600_000 } });
    try {
      const c = await campaign({ n: 4, max: 2 });
      const [first, second, ...rest] = c.calls;
      await dispatch([first, second].map((call) => dispatchOf(c, call as (typeof c.calls)[number])));
      await until(() => statusEvents(c.id).length >= 2, 'two calls dialled');
      // Redis restarted empty: the two leases are gone, and the worker's connection comes back.
      await redis.del(campaignSlotsKey(c.id));
      const reconnected = new Promise((resolve) => redis.once('ready', resolve));
      redis.disconnect(true);
      await reconnected;

      const slotWaitsBefore = await metric('call_worker_waits_total', { kind: 'slot' });
      await dispatch(rest.map((call) => dispatchOf(c, call)));
      await until(
        async () => (await metric('call_worker_waits_total', { kind: 'slot' })) > slotWaitsBefore,
        'the worker to wait for a slot',
      );
      expect(sim.stats().campaigns[c.id]).toMatchObject({ active: 2, creates: 2 });

      // The first two end: their slots free, the other two dial; never more than 2 at the carrier.
      const semaphore = new LeaseSemaphore(redis);
      for (const event of statusEvents(c.id)) {
        await provider.hangup(event.providerCallId as string);
        await until(() => (sim.stats().campaigns[c.id]?.active ?? 0) < 2, 'the carrier to end a call');
        await semaphore.release(campaignSlotsKey(c.id), event.attemptId);
      }
      await until(() => sim.stats().campaigns[c.id]?.creates === 4, 'the other two dialled');
      expect(sim.stats().campaigns[c.id]?.maxActive).toBeLessThanOrEqual(2);
    } finally {
      sim.configure(FAST);
    }
  });

  it('paces a campaign at its calls per second (2 cps: 10 calls take about 4 s)', async () => {
    const c = await campaign({ n: 10, cps: 2 });
    const startedAt = Date.now();
    await dispatch(c.calls.map((call) => dispatchOf(c, call)));
    const events = await until(() => {
      const found = statusEvents(c.id);
      return found.length >= 10 && found;
    }, 'ten calls dialled');
    const times = events.map((e) => Date.parse(e.occurredAt)).sort((a, b) => a - b);
    // A burst of 2, then one every 500 ms: 4 s from the first dial to the last.
    const spread = (times.at(-1) as number) - (times[0] as number);
    expect(spread).toBeGreaterThanOrEqual(3_500);
    expect(spread).toBeLessThan(8_000);
    expect((times.at(-1) as number) - startedAt).toBeGreaterThanOrEqual(3_500);
    expect(await metric('call_worker_waits_total', { kind: 'campaign_cps' })).toBeGreaterThanOrEqual(8);
    await expectCountersMatchRows(c.id);
  });

  it('paces strictly: 25 cps against a carrier that refuses a 26th create within any one second, none refused', async () => {
    // A token bucket of 25 (its burst) refilling 25 per second put up to 49 creates in the first second.
    sim.reset();
    sim.configure({ cps: 25 });
    try {
      const c = await campaign({ n: 60, cps: 25 });
      const retried = await metric('call_worker_carrier_cps_retries_total');
      const startedAt = Date.now();
      await dispatch(c.calls.map((call) => dispatchOf(c, call)));
      await until(() => statusEvents(c.id).length >= 60, 'sixty calls dialled');
      const stats = sim.stats();
      expect(stats.cpsRejections).toBe(0);
      expect(stats.campaigns[c.id]).toMatchObject({ creates: 60, maxPerSecond: 25 });
      // 25 per second at most: the last of 60 leaves after two full windows.
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2_000);
      expect(await metric('call_worker_carrier_cps_retries_total')).toBe(retried);
      await expectCountersMatchRows(c.id);
    } finally {
      sim.configure(FAST);
    }
  });

  it('fails an attempt with nothing sent when its pacing place does not come within PACE_WAIT_MAX_MS once DIALING', async () => {
    // The reaper takes a call DIALING for REAPER_DIALING_TIMEOUT_MS without a word from the carrier for lost, and a
    // retry would dial it again: a dial must never sit DIALING, unsent, for that long.
    const c = await campaign({ n: 1, cps: 1 });
    const call = c.calls[0] as Campaign['calls'][number];
    const window = { key: campaignCpsKey(c.id), ...paceOf(1) };
    const limiter = new SlidingWindowLimiter(redis);
    const holder = await pool.connect();
    try {
      // The call row stays locked, so the worker takes its pacing place, then waits at QUEUED -> DIALING.
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM calls WHERE id = $1 FOR UPDATE', [call.id]);
      await dispatch([dispatchOf(c, call)]);
      // Once its place left the one-second window, another dial takes the only place, on its way for 10 s.
      await until(async () => (await redis.zcard(window.key)) > 0, 'the worker to take its pacing place');
      await until(
        async () => (await limiter.stamp('intruder', [window], 10_000)).allowed,
        'the place to free up',
      );
      await holder.query('COMMIT');
    } finally {
      holder.release();
    }
    const [event] = await until(() => {
      const found = statusEvents(c.id);
      return found.length > 0 && found;
    }, 'the attempt to fail');
    expect(event).toMatchObject({
      eventId: `${call.attemptId}:rejected`,
      outcome: 'FAILED',
      detail: expect.stringMatching(/^PACING_TIMEOUT: /),
    });
    expect(createsOf(call.attemptId)).toBe(0);
    expect(await metric('call_worker_rejected_total', { code: 'PACING_TIMEOUT' })).toBe(1);
    await limiter.release('intruder', [window.key]);
  });

  it('reports a call the carrier refuses (invalid To) as a completed FAILED event with the carrier code', async () => {
    const c = await campaign({ phones: ['+0123456'] });
    const call = c.calls[0] as Campaign['calls'][number];
    await dispatch([dispatchOf(c, call)]);
    const [event] = await until(() => {
      const found = statusEvents(c.id);
      return found.length > 0 && found;
    }, 'the rejection event');
    expect(event).toMatchObject({
      eventId: `${call.attemptId}:rejected`,
      event: 'completed',
      outcome: 'FAILED',
      attemptId: call.attemptId,
      detail: expect.stringMatching(/^21211: /),
    });
    expect(createsOf(call.attemptId)).toBe(0);
    expect(sim.stats().invalidRequests).toBeGreaterThanOrEqual(1);
    // DIALING until the status worker applies the event.
    expect((await rows(c.id))[0]?.status).toBe('DIALING');
    expect(await metric('call_worker_rejected_total', { code: '21211' })).toBe(1);
    await expectCountersMatchRows(c.id);
  });

  it('does not originate again when the outcome is unknown (carrier 500): no event, the call stays DIALING', async () => {
    sim.configure({ failures: { createError: 1 } });
    try {
      const c = await campaign({ n: 1 });
      const errorsBefore = sim.stats().createErrors;
      await dispatch([dispatchOf(c, c.calls[0] as Campaign['calls'][number])]);
      await until(
        async () => (await metric('call_worker_unknown_outcome_total')) >= 1,
        'the unknown outcome',
      );
      expect(sim.stats().createErrors).toBe(errorsBefore + 1);
      expect(statusEvents(c.id)).toEqual([]);
      expect((await rows(c.id))[0]?.status).toBe('DIALING');
      await expectCountersMatchRows(c.id);
    } finally {
      sim.configure(FAST);
    }
  });

  it('dead-letters a malformed dispatch message and goes on with the next ones', async () => {
    const c = await campaign({ n: 1 });
    const call = c.calls[0] as Campaign['calls'][number];
    const { attemptId: _missing, ...incomplete } = dispatchOf(c, call);
    await producer.send(topics.dispatch, [
      { key: c.id, value: 'not json at all' },
      { key: c.id, value: JSON.stringify(incomplete) },
      { key: c.id, value: encode(dispatchOf(c, call)) },
    ]);
    await until(() => statusEvents(c.id).length === 1, 'the valid message to be dialled');
    const letters = await until(() => {
      const found = seen.filter((s) => s.topic === topics.deadLetter && s.key === c.id);
      return found.length >= 2 && found;
    }, 'two dead letters');
    expect(letters.map((l) => headerValue(l.headers, 'x-error-kind'))).toEqual(['invalid', 'invalid']);
    expect(headerValue(letters[1]?.headers, 'x-error')).toContain('attemptId');
    expect(createsOf(call.attemptId)).toBe(1);
    expect(worker.isReady()).toBe(true);
  });
});
