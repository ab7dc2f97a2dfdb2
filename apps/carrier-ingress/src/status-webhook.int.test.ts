import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { createKafka, ensureTopics, topicNames, topicSpecs } from '@outbound/bus';
import { type RunningSimulator, startSimulator } from '@outbound/carrier-sim';
import { type KafkaConfig, kafkaEnv, parseEnv } from '@outbound/config';
import { decode, type TStatusEvent, ZStatusEvent } from '@outbound/contracts';
import { createLogger } from '@outbound/observability';
import {
  computeTwilioSignature,
  flowFallbackUrl,
  flowVoiceUrl,
  STATUS_CALLBACK_EVENTS,
  STATUS_WEBHOOK_PATH,
  statusCallbackUrl,
  TwilioProvider,
} from '@outbound/telephony';
import { freePort } from '@outbound/testing/ports';
import type { Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningIngress, startCarrierIngress } from './app.ts';
import { loadConfig } from './environment.ts';

const logger = createLogger({ service: 'carrier-ingress-test', level: 'silent' });
const authToken = randomBytes(24).toString('hex');
const kafkaConfig: KafkaConfig = {
  ...parseEnv(kafkaEnv, process.env),
  KAFKA_TOPIC_PREFIX: `test.${randomBytes(4).toString('hex')}.`,
  KAFKA_PARTITIONS: 1,
};
const kafka = createKafka(kafkaConfig, logger);
const statusTopic = topicNames(kafkaConfig).status;

let ingress: RunningIngress;
let webhook: string;
let sim: RunningSimulator;
let consumer: Consumer;
const received: TStatusEvent[] = [];
const waiters: (() => void)[] = [];

/** An ingress on a free port, its public URL its real one (the carrier signs the URL it calls). */
async function startIngress(env: Record<string, string> = {}): Promise<RunningIngress> {
  const port = String(await freePort());
  const config = loadConfig({
    ...process.env,
    KAFKA_TOPIC_PREFIX: kafkaConfig.KAFKA_TOPIC_PREFIX,
    TELEPHONY_AUTH_TOKEN: authToken,
    CARRIER_INGRESS_PORT: port,
    WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...env,
  });
  return startCarrierIngress(config, logger);
}

async function until(condition: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for status events');
    await new Promise<void>((resolve) => {
      waiters.push(resolve);
      setTimeout(resolve, 200);
    });
  }
}

beforeAll(async () => {
  await ensureTopics(kafka, kafkaConfig, logger);
  ingress = await startIngress();
  webhook = `${ingress.url}${STATUS_WEBHOOK_PATH}`;
  sim = await startSimulator({
    authToken,
    behaviour: {
      zeroDelay: true,
      outcomes: { answered: 1, busy: 0, noAnswer: 0, failed: 0, voicemail: 0, rejected: 0 },
    },
  });
  consumer = kafka.consumer({ groupId: `${kafkaConfig.KAFKA_TOPIC_PREFIX}webhook` });
  await consumer.connect();
  await consumer.subscribe({ topic: statusTopic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const decoded = decode(ZStatusEvent, message.value);
      if (decoded.ok) received.push(decoded.message);
      for (const wake of waiters.splice(0)) wake();
    },
  });
});

afterAll(async () => {
  await consumer?.disconnect();
  await sim?.stop();
  await ingress?.stop();
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: topicSpecs(kafkaConfig).map((s) => s.topic) });
  await admin.disconnect();
});

function ids() {
  return {
    tenantId: randomUUID(),
    campaignId: randomUUID(),
    callId: randomUUID(),
    attemptId: randomUUID(),
    attempt: 1,
  };
}

/** A correctly signed final callback of a new attempt, ready to post to `base`'s status webhook. */
function signedCallback(base: string) {
  const url = statusCallbackUrl(`${base}${STATUS_WEBHOOK_PATH}`, ids());
  const form = { CallSid: `CA${randomBytes(16).toString('hex')}`, CallStatus: 'completed' };
  return { url, form, signature: computeTwilioSignature(authToken, url, form) };
}

function post(url: string, body: Record<string, string>, signature?: string) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature ? { 'x-twilio-signature': signature } : {}),
    },
    body: new URLSearchParams(body),
  });
}

async function metric(running: RunningIngress, name: string): Promise<string[]> {
  const text = await running.registry.metrics();
  return text.split('\n').filter((line) => line.startsWith(name));
}

describe('carrier ingress: status webhook', () => {
  it("publishes the carrier's signed callbacks of a call placed through the production adapter", async () => {
    const ref = ids();
    const provider = new TwilioProvider({
      baseUrl: sim.url,
      accountSid: sim.accountSid,
      authToken,
      // Every callback the carrier can send, to see them all; the platform's retry overrides on the URL.
      statusCallbackEvents: STATUS_CALLBACK_EVENTS,
      callbackOverrides: 'rc=5&rp=all&ct=1000&rt=3000&tt=15000',
    });
    const { providerCallId } = await provider.originate({
      ...ref,
      to: '+14155550123',
      from: '+14155550100',
      statusCallbackUrl: statusCallbackUrl(webhook, ref),
      flowUrl: flowVoiceUrl(ingress.url, { ...ref, flowVersion: null }),
      fallbackUrl: flowFallbackUrl(ingress.url, { ...ref, flowVersion: null }),
      machineDetection: 'Enable',
    });
    await until(() => received.some((e) => e.attemptId === ref.attemptId && e.event === 'completed'));
    const events = received.filter((e) => e.attemptId === ref.attemptId);
    expect(events.map((e) => e.event)).toEqual(['initiated', 'ringing', 'answered', 'completed']);
    expect(events.at(-1)).toMatchObject({ ...ref, providerCallId, outcome: 'ANSWERED' });
  });

  it('refuses a forged or tampered callback with 403 and publishes nothing', async () => {
    const ref = ids();
    const path = statusCallbackUrl(webhook, ref);
    const form = {
      CallSid: `CA${randomBytes(16).toString('hex')}`,
      CallStatus: 'completed',
      AccountSid: sim.accountSid,
    };
    const good = computeTwilioSignature(authToken, path, form);
    expect((await post(path, form)).status).toBe(403);
    expect((await post(path, form, computeTwilioSignature('not-the-token-at-all', path, form))).status).toBe(
      403,
    );
    expect((await post(path, { ...form, CallStatus: 'busy' }, good)).status).toBe(403);
    // Another attempt's ids in the URL: the signature does not cover them.
    expect((await post(path.replace(ref.attemptId, randomUUID()), form, good)).status).toBe(403);

    // A genuine callback after the forged ones: it is the only one of this attempt that arrives.
    expect((await post(path, form, good)).status).toBe(204);
    await until(() => received.some((e) => e.attemptId === ref.attemptId));
    expect(received.filter((e) => e.attemptId === ref.attemptId).map((e) => e.event)).toEqual(['completed']);
    expect(await metric(ingress, 'carrier_ingress_callbacks_total{result="forged"')).toEqual([
      expect.stringMatching(/ 4$/),
    ]);
  });

  it('answers 400 naming the fields of a signed but malformed callback', async () => {
    const path = `${webhook}?tenantId=nope`;
    const form = { CallSid: 'x', CallStatus: 'exploded' };
    const response = await post(path, form, computeTwilioSignature(authToken, path, form));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { field: string }[] };
    expect(body.issues.map((i) => i.field)).toEqual(
      expect.arrayContaining(['CallStatus', 'query.callId', 'query.attemptId']),
    );
  });

  it("keeps a carrier's connection open a minute between its requests, not Node's 5 s", async () => {
    const refused = await post(statusCallbackUrl(webhook, ids()), { CallSid: 'CAx', CallStatus: 'busy' });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('keep-alive')).toBe('timeout=60');
  });

  it('refuses what is not a callback: other methods, other bodies, oversized bodies', async () => {
    expect((await fetch(webhook)).status).toBe(405);
    const json = await fetch(webhook, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(json.status).toBe(415);
    const huge = await post(webhook, { CallSid: 'x'.repeat(70 * 1024) });
    expect(huge.status).toBe(413);
  });

  it('serves /healthz, /readyz (Kafka connected, PostgreSQL answering) and /metrics on the same port', async () => {
    expect((await fetch(`${ingress.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${ingress.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const metrics = await (await fetch(`${ingress.url}/metrics`)).text();
    expect(metrics).toContain(
      'carrier_ingress_callbacks_total{result="accepted",route="status",service="carrier-ingress"}',
    );
    expect(metrics).toContain('carrier_ingress_callback_seconds_bucket');
  });
});

describe('carrier ingress with a slow client', () => {
  it('counts a request still being read towards its bound, and takes callbacks again once it is answered', async () => {
    const one = await startIngress({ CARRIER_INGRESS_MAX_IN_FLIGHT: '1' });
    try {
      const slow = signedCallback(one.url);
      const body = new URLSearchParams(slow.form).toString();
      // Headers and half the body; the rest comes later.
      const answered = new Promise<number>((resolve, reject) => {
        const req = request(slow.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': String(Buffer.byteLength(body)),
            'x-twilio-signature': slow.signature,
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write(body.slice(0, 10));
        // The ingress holds it once its handler runs: wait for the gauge rather than for time.
        void (async () => {
          while (!(await metric(one, 'carrier_ingress_callbacks_in_flight')).some((l) => l.endsWith(' 1'))) {
            await new Promise((resolve) => setImmediate(resolve));
          }
          const other = signedCallback(one.url);
          try {
            expect((await post(other.url, other.form, other.signature)).status).toBe(503);
          } finally {
            req.end(body.slice(10));
          }
        })().catch(reject);
      });
      expect(await answered).toBe(204);
      const again = signedCallback(one.url);
      expect((await post(again.url, again.form, again.signature)).status).toBe(204);
      expect(await metric(one, 'carrier_ingress_callbacks_total')).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/result="overloaded".* 1$/),
          expect.stringMatching(/result="accepted".* 2$/),
        ]),
      );
    } finally {
      await one.stop();
    }
  });
});

describe('carrier ingress without Kafka', () => {
  // A broker address where nothing listens: Kafka is away for this ingress, as after a crash of the broker.
  let away: RunningIngress;
  beforeAll(async () => {
    away = await startIngress({
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      CARRIER_INGRESS_PUBLISH_TIMEOUT_MS: '200',
      CARRIER_INGRESS_MAX_IN_FLIGHT: '2',
    });
  });
  afterAll(async () => {
    await away?.stop();
  });

  it('is not ready, answers 503 instead of waiting for Kafka, and holds no more than its bound of callbacks', async () => {
    expect((await fetch(`${away.url}/readyz`)).status).toBe(503);
    // Each waits the publish timeout, then 503 (the carrier retries); their publishes stay pending in the client.
    const first = await Promise.all(
      [0, 1].map(() => signedCallback(away.url)).map((c) => post(c.url, c.form, c.signature)),
    );
    expect(first.map((r) => r.status)).toEqual([503, 503]);
    // The bound is reached: the next one is answered at once, without joining a queue.
    const third = signedCallback(away.url);
    expect((await post(third.url, third.form, third.signature)).status).toBe(503);
    expect(await metric(away, 'carrier_ingress_callbacks_total')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/result="unavailable".* 2$/),
        expect.stringMatching(/result="overloaded".* 1$/),
      ]),
    );
    expect(await metric(away, 'carrier_ingress_callbacks_in_flight')).toEqual([expect.stringMatching(/ 2$/)]);
  });
});
