import { randomBytes, randomUUID } from 'node:crypto';
import { createKafka, ensureTopics, topicNames, topicSpecs } from '@outbound/bus';
import { type RunningSimulator, startSimulator } from '@outbound/carrier-sim';
import { type KafkaConfig, kafkaEnv, parseEnv } from '@outbound/config';
import { decode, type TStatusEvent, ZStatusEvent } from '@outbound/contracts';
import { createLogger } from '@outbound/observability';
import {
  computeTwilioSignature,
  STATUS_CALLBACK_EVENTS,
  statusCallbackUrl,
  TwilioProvider,
} from '@outbound/telephony';
import type { Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestGateway, type TestGateway } from './testing/harness.ts';

const logger = createLogger({ service: 'webhook-test', level: 'silent' });
const authToken = randomBytes(24).toString('hex');
const kafkaConfig: KafkaConfig = {
  ...parseEnv(kafkaEnv, process.env),
  KAFKA_TOPIC_PREFIX: `test.${randomBytes(4).toString('hex')}.`,
  KAFKA_PARTITIONS: 1,
};
const kafka = createKafka(kafkaConfig, logger);
const statusTopic = topicNames(kafkaConfig).status;

let t: TestGateway;
let sim: RunningSimulator;
let consumer: Consumer;
const received: TStatusEvent[] = [];
const waiters: (() => void)[] = [];

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
  // The carrier signs the URL it calls, so the gateway's public URL must be its real one, known before it starts.
  const port = String(await freePort());
  t = await startTestGateway({
    TELEPHONY_AUTH_TOKEN: authToken,
    KAFKA_TOPIC_PREFIX: kafkaConfig.KAFKA_TOPIC_PREFIX,
    GATEWAY_PORT: port,
    WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${port}`,
  });
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
  await t?.stop();
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

describe('telephony status webhook', () => {
  it("publishes the carrier's signed callbacks of a call placed through the production adapter", async () => {
    const ref = ids();
    const provider = new TwilioProvider({
      baseUrl: sim.url,
      accountSid: sim.accountSid,
      authToken,
      twimlUrl: 'http://127.0.0.1/twiml',
      // Every callback the carrier can send, to see them all.
      statusCallbackEvents: STATUS_CALLBACK_EVENTS,
    });
    const callbackUrl = statusCallbackUrl(`${t.url}/webhooks/twilio/status`, ref);
    const { providerCallId } = await provider.originate({
      ...ref,
      to: '+14155550123',
      from: '+14155550100',
      statusCallbackUrl: callbackUrl,
    });
    await until(() => received.some((e) => e.attemptId === ref.attemptId && e.event === 'completed'));
    const events = received.filter((e) => e.attemptId === ref.attemptId);
    expect(events.map((e) => e.event)).toEqual(['initiated', 'ringing', 'answered', 'completed']);
    expect(events.at(-1)).toMatchObject({ ...ref, providerCallId, outcome: 'ANSWERED' });
  });

  it('refuses a forged or tampered callback with 403 and publishes nothing', async () => {
    const ref = ids();
    const path = statusCallbackUrl(`${t.url}/webhooks/twilio/status`, ref);
    const form = {
      CallSid: `CA${randomBytes(16).toString('hex')}`,
      CallStatus: 'completed',
      AccountSid: sim.accountSid,
    };
    const post = (url: string, body: Record<string, string>, signature?: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(signature ? { 'x-twilio-signature': signature } : {}),
        },
        body: new URLSearchParams(body),
      });
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
  });

  it('answers 400 naming the fields of a signed but malformed callback', async () => {
    const path = `${t.url}/webhooks/twilio/status?tenantId=nope`;
    const form = { CallSid: 'x', CallStatus: 'exploded' };
    const response = await fetch(path, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': computeTwilioSignature(authToken, path, form),
      },
      body: new URLSearchParams(form),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { issues: { field: string }[] };
    expect(body.issues.map((i) => i.field)).toEqual(
      expect.arrayContaining(['CallStatus', 'query.callId', 'query.attemptId']),
    );
  });
});
