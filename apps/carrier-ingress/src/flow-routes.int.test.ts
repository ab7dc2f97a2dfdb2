import { randomBytes, randomUUID } from 'node:crypto';
import { type CallFlowInput, ZCallFlow } from '@outbound/call-flow';
import { elementsOf, parseXml, textOf } from '@outbound/call-flow/testing';
import { decode, type TFlowEvent, ZFlowEvent } from '@outbound/contracts';
import {
  computeTwilioSignature,
  type FlowAttemptRef,
  flowFallbackUrl,
  flowMenuUrl,
  flowTransferUrl,
  flowVoiceUrl,
  ingressUrl,
  STATUS_WEBHOOK_PATH,
  statusCallbackUrl,
} from '@outbound/telephony';
import { createCampaign, createHarness, eventually, type Harness, testLogger } from '@outbound/testing';
import { freePort } from '@outbound/testing/ports';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningIngress, startCarrierIngress } from './app.ts';
import { loadConfig } from './environment.ts';
import { optOutReason } from './flow-store.ts';

// The flow routes against a scratch database and topics of their own (packages/testing), the carrier played by
// signed HTTP requests built from the same URL builders the call-worker and the documents use.

const authToken = randomBytes(24).toString('hex');
let harness: Harness;
let ingress: RunningIngress;

/** An ingress on a free port whose public URL is its real one (the carrier signs the URL it calls). */
async function startIngress(env: Record<string, string> = {}): Promise<RunningIngress> {
  const port = String(await freePort());
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: harness.databaseUrl,
    DATABASE_POOL_SIZE: '4',
    KAFKA_TOPIC_PREFIX: harness.prefix,
    TELEPHONY_AUTH_TOKEN: authToken,
    CARRIER_INGRESS_PORT: port,
    WEBHOOK_PUBLIC_URL: `http://127.0.0.1:${port}`,
    ...env,
  });
  return startCarrierIngress(config, testLogger);
}

beforeAll(async () => {
  harness = await createHarness('ingress-flows');
  await harness.collect([harness.topics.status]);
  ingress = await startIngress();
});

afterAll(async () => {
  await ingress?.stop();
  await harness?.cleanup();
});

/** The README's appointment reminder. */
const REMINDER: CallFlowInput = {
  identification: 'This is Acme Dental calling for {{firstName}}.',
  message: { kind: 'SAY', text: 'Your appointment is on {{date}}.' },
  machine: { action: 'LEAVE_MESSAGE', message: { kind: 'SAY', text: 'Please call Acme Dental back.' } },
  menu: {
    prompt: 'Press 1 to confirm, 2 to reschedule, 9 to opt out, star to repeat.',
    keys: [
      { key: '1', action: 'RECORD_ANSWER', label: 'confirmed' },
      {
        key: '2',
        action: 'TRANSFER',
        number: '+14155550199',
        noAnswerMessage: 'Nobody is free, {{firstName}}. We will call you back.',
      },
      { key: '9', action: 'OPT_OUT', confirmation: 'You will not be called again.' },
      { key: '*', action: 'REPEAT' },
    ],
    maxRetries: 1,
  },
  fields: [
    { name: 'firstName', fallback: 'there' },
    { name: 'date', fallback: 'the agreed day' },
  ],
};

interface Fixture {
  ref: Omit<FlowAttemptRef, 'flowVersion'>;
  phoneNumber: string;
  callSid: string;
}

/** A running campaign with one call IN_PROGRESS (with `metadata`), and the flow versions given (the last current). */
async function callWithFlow(
  versions: { version: number; flow: CallFlowInput }[],
  metadata: Record<string, unknown> = { firstName: 'Ada', date: 'Monday' },
): Promise<Fixture> {
  const fixture = await createCampaign(harness.db, { calls: [{ status: 'IN_PROGRESS' }] });
  const call = fixture.calls[0];
  if (!call?.attemptId) throw new Error('fixture');
  await harness.pool.query('UPDATE calls SET metadata = $2 WHERE id = $1', [
    call.id,
    JSON.stringify(metadata),
  ]);
  for (const { version, flow } of versions) await saveFlow(fixture.campaignId, version, flow);
  return {
    ref: {
      tenantId: fixture.tenantId,
      campaignId: fixture.campaignId,
      callId: call.id,
      attemptId: call.attemptId,
      attempt: call.attempts,
    },
    phoneNumber: call.phoneNumber,
    callSid: `CA${randomBytes(16).toString('hex')}`,
  };
}

/** A new flow version, made the campaign's current one (as the gateway saves an edited flow). */
async function saveFlow(campaignId: string, version: number, flow: CallFlowInput): Promise<void> {
  await harness.pool.query('INSERT INTO call_flows (campaign_id, version, flow) VALUES ($1, $2, $3)', [
    campaignId,
    version,
    JSON.stringify(ZCallFlow.parse(flow)),
  ]);
  await harness.pool.query('UPDATE campaigns SET flow_version = $2 WHERE id = $1', [campaignId, version]);
}

/** A request as the carrier posts it: form body, signed over the exact URL and form (unless told otherwise). */
function post(url: string, form: Record<string, string>, signature: string | null = sign(url, form)) {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature === null ? {} : { 'x-twilio-signature': signature }),
    },
    body: new URLSearchParams(form),
  });
}
const sign = (url: string, form: Record<string, string>, token = authToken) =>
  computeTwilioSignature(token, url, form);

/** The flow events of a call published so far; each keyed by its campaign id. */
function eventsOf(callId: string): TFlowEvent[] {
  return harness.collected
    .filter((m) => m.topic === harness.topics.status)
    .flatMap((m) => {
      const decoded = decode(ZFlowEvent, m.value);
      if (!decoded.ok || decoded.message.callId !== callId) return [];
      expect(m.key).toBe(decoded.message.campaignId);
      return [decoded.message];
    });
}

/** Waits for `count` flow events of the call. */
const flowEvents = (callId: string, count: number) =>
  eventually(() => {
    const events = eventsOf(callId);
    return events.length >= count && events;
  }, `${count} flow events of call ${callId}`);

/** The document read back by a conforming XML parser: its verbs and every text spoken. */
async function documentOf(response: Response) {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/xml; charset=utf-8');
  const { root } = parseXml(await response.text());
  return {
    verbs: root.children.flatMap((c) => (typeof c === 'string' ? [] : [c.name])),
    says: elementsOf(root)
      .filter((e) => e.name === 'Say')
      .map(textOf),
    elements: elementsOf(root),
  };
}

async function dncRows(tenantId: string) {
  const { rows } = await harness.pool.query(
    'SELECT phone_number, reason, created_by_id FROM do_not_call WHERE tenant_id = $1',
    [tenantId],
  );
  return rows;
}

async function auditRows(tenantId: string) {
  const { rows } = await harness.pool.query(
    `SELECT actor_type::text AS actor_type, actor_id, action, target_type, target_id, details, request_id
     FROM audit_log WHERE tenant_id = $1`,
    [tenantId],
  );
  return rows;
}

describe('carrier ingress: call flow routes', () => {
  it('serves a person the flow version its URL names, and publishes the answered event keyed by campaign', async () => {
    const call = await callWithFlow([{ version: 3, flow: REMINDER }]);
    const url = flowVoiceUrl(ingress.url, { ...call.ref, flowVersion: 3 });
    const document = await documentOf(await post(url, { CallSid: call.callSid, AnsweredBy: 'human' }));
    expect(document.verbs).toEqual(['Gather']);
    expect(document.says).toEqual([
      'This is Acme Dental calling for Ada.',
      'Your appointment is on Monday.',
      'Press 1 to confirm, 2 to reschedule, 9 to opt out, star to repeat.',
    ]);
    expect(document.elements[1]?.attributes.action).toBe(
      flowMenuUrl(ingress.url, { ...call.ref, flowVersion: 3 }, 1),
    );
    const [event] = await flowEvents(call.ref.callId, 1);
    expect(event).toEqual({
      v: 1,
      kind: 'flow',
      step: 'answered',
      eventId: `${call.callSid}:flow:answered`,
      ...call.ref,
      providerCallId: call.callSid,
      flowVersion: 3,
      occurredAt: expect.any(String),
      answeredBy: 'HUMAN',
      played: 'MESSAGE',
    });
  });

  it('leaves the voicemail message on a machine', async () => {
    const call = await callWithFlow([{ version: 1, flow: REMINDER }]);
    const url = flowVoiceUrl(ingress.url, { ...call.ref, flowVersion: 1 });
    const document = await documentOf(
      await post(url, { CallSid: call.callSid, AnsweredBy: 'machine_end_beep' }),
    );
    expect(document.verbs).toEqual(['Say', 'Hangup']);
    expect(document.says).toEqual(['Please call Acme Dental back.']);
    expect(await flowEvents(call.ref.callId, 1)).toEqual([
      expect.objectContaining({ step: 'answered', answeredBy: 'MACHINE', played: 'VOICEMAIL' }),
    ]);
  });

  it('refuses an unsigned or wrongly signed request on every flow route with 403: nothing published or written', async () => {
    const call = await callWithFlow([{ version: 1, flow: REMINDER }]);
    const ref = { ...call.ref, flowVersion: 1 };
    const requests: { url: string; form: Record<string, string> }[] = [
      { url: flowVoiceUrl(ingress.url, ref), form: { CallSid: call.callSid, AnsweredBy: 'human' } },
      { url: flowMenuUrl(ingress.url, ref, 1), form: { CallSid: call.callSid, Digits: '9' } },
      {
        url: flowTransferUrl(ingress.url, ref, 1, '2'),
        form: { CallSid: call.callSid, DialCallStatus: 'no-answer' },
      },
      { url: flowFallbackUrl(ingress.url, ref), form: { CallSid: call.callSid, ErrorCode: '12100' } },
    ];
    for (const { url, form } of requests) {
      const good = sign(url, form);
      const statuses = [
        (await post(url, form, null)).status,
        (await post(url, form, sign(url, form, 'not-the-token-at-all'))).status,
        // The form changed (another key), or the URL (another call's ids, another offer): the signature does not cover it.
        (await post(url, { ...form, Digits: '1' }, good)).status,
        (await post(url.replace(call.ref.callId, randomUUID()), form, good)).status,
        (await post(`${url}&offer=2`, form, good)).status,
      ];
      expect(statuses).toEqual([403, 403, 403, 403, 403]);
    }
    // A genuine request after the forged ones (same call, same partition): the only event of the call.
    expect((await post(requests[0]?.url ?? '', requests[0]?.form ?? {})).status).toBe(200);
    const events = await flowEvents(call.ref.callId, 1);
    expect(events.map((e) => e.step)).toEqual(['answered']);
    expect(await dncRows(call.ref.tenantId)).toEqual([]);
    expect(await auditRows(call.ref.tenantId)).toEqual([]);
    const forged = (await ingress.registry.metrics())
      .split('\n')
      .filter((l) => l.startsWith('carrier_ingress_callbacks_total{result="forged"'))
      .map((l) => [/route="(\w+)"/.exec(l)?.[1], Number(l.split(' ').at(-1))]);
    expect(Object.fromEntries(forged)).toEqual({ voice: 5, menu: 5, transfer: 5, fallback: 5 });
  });

  it('puts an opted-out number on the do-not-call list, audited, before answering', async () => {
    const call = await callWithFlow([{ version: 1, flow: REMINDER }]);
    const url = flowMenuUrl(ingress.url, { ...call.ref, flowVersion: 1 }, 1);
    const response = await post(url, { CallSid: call.callSid, Digits: '9' });
    // Read at once, before anything else happens: the row is there when the carrier hears back.
    expect(await dncRows(call.ref.tenantId)).toEqual([
      { phone_number: call.phoneNumber, reason: optOutReason(call.ref.callId), created_by_id: null },
    ]);
    const document = await documentOf(response);
    expect(document.verbs).toEqual(['Say', 'Hangup']);
    expect(document.says).toEqual(['You will not be called again.']);
    expect(await auditRows(call.ref.tenantId)).toEqual([
      {
        actor_type: 'SYSTEM',
        actor_id: 'carrier-ingress',
        action: 'doNotCall.optOut',
        target_type: 'Call',
        target_id: call.ref.callId,
        details: {
          phoneNumber: call.phoneNumber,
          campaignId: call.ref.campaignId,
          attemptId: call.ref.attemptId,
          key: '9',
          offer: 1,
        },
        request_id: `${call.callSid}:flow:key:1`,
      },
    ]);
    expect(await flowEvents(call.ref.callId, 1)).toEqual([
      expect.objectContaining({
        step: 'key',
        eventId: `${call.callSid}:flow:key:1`,
        offer: 1,
        key: '9',
        action: 'OPT_OUT',
        phoneNumber: call.phoneNumber,
      }),
    ]);
  });

  it('answers a carrier retrying a menu request (same URL and form) with the same document and event id, listing the number once', async () => {
    const call = await callWithFlow([{ version: 1, flow: REMINDER }]);
    const url = flowMenuUrl(ingress.url, { ...call.ref, flowVersion: 1 }, 2);
    const form = { CallSid: call.callSid, Digits: '9' };
    const first = await post(url, form);
    const [second, third] = await Promise.all([post(url, form), post(url, form)]);
    const bodies = await Promise.all([first, second, third].map((r) => r.text()));
    expect([first, second, third].map((r) => r.status)).toEqual([200, 200, 200]);
    expect(new Set(bodies).size).toBe(1);
    const events = await flowEvents(call.ref.callId, 3);
    expect(events.map((e) => e.eventId)).toEqual(Array(3).fill(`${call.callSid}:flow:key:2`));
    expect(await dncRows(call.ref.tenantId)).toHaveLength(1);
    expect(await auditRows(call.ref.tenantId)).toHaveLength(1);
  });

  it('speaks hostile metadata as text: the served document keeps its structure', async () => {
    // PostgreSQL's jsonb holds no NUL nor lone surrogates (the unit tests have them); other control characters, yes.
    const hostile = '</Say><Dial>+19005550100</Dial><Say>& <break time="10s"/> ]]> \u0007\u001b';
    const call = await callWithFlow([{ version: 1, flow: REMINDER }], {
      firstName: hostile,
      date: '<b>Monday</b>',
    });
    const document = await documentOf(
      await post(flowVoiceUrl(ingress.url, { ...call.ref, flowVersion: 1 }), { CallSid: call.callSid }),
    );
    expect(document.elements.map((e) => e.name)).toEqual(['Response', 'Gather', 'Say', 'Say', 'Say']);
    expect(document.says.slice(0, 2)).toEqual([
      'This is Acme Dental calling for </Say><Dial>+19005550100</Dial><Say>& <break time="10s"/> ]]>.',
      'Your appointment is on <b>Monday</b>.',
    ]);
  });

  it('hangs up a call without a flow (or of an unknown version) and publishes an error event', async () => {
    const call = await callWithFlow([]);
    const none = await post(flowVoiceUrl(ingress.url, { ...call.ref, flowVersion: null }), {
      CallSid: call.callSid,
    });
    expect(await none.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
    const other = await callWithFlow([]);
    const unknown = await post(flowVoiceUrl(ingress.url, { ...other.ref, flowVersion: 42 }), {
      CallSid: other.callSid,
    });
    expect((await documentOf(unknown)).verbs).toEqual(['Hangup']);
    expect(await flowEvents(call.ref.callId, 1)).toEqual([
      expect.objectContaining({
        step: 'error',
        eventId: `${call.callSid}:flow:error`,
        flowVersion: 0,
        error: 'the campaign had no call flow when the call was dialled',
      }),
    ]);
    expect(await flowEvents(other.ref.callId, 1)).toEqual([
      expect.objectContaining({
        step: 'error',
        flowVersion: 42,
        error: 'call flow version 42 does not exist',
      }),
    ]);
  });

  it('runs the version a call was dialled with after the flow was edited (a new version written)', async () => {
    const versionOne = { ...REMINDER, message: { kind: 'SAY' as const, text: 'Version one.' } };
    const call = await callWithFlow([{ version: 1, flow: versionOne }]);
    // Dialled now: its URLs name version 1.
    const dialled = { ...call.ref, flowVersion: 1 };
    // The campaign is paused and its flow edited: version 2 is current before the call's first request arrives.
    await saveFlow(call.ref.campaignId, 2, { ...REMINDER, message: { kind: 'SAY', text: 'Version two.' } });
    const answered = await documentOf(
      await post(flowVoiceUrl(ingress.url, dialled), { CallSid: call.callSid }),
    );
    expect(answered.says[1]).toBe('Version one.');
    const repeated = await documentOf(
      await post(flowMenuUrl(ingress.url, dialled, 1), { CallSid: call.callSid, Digits: '*' }),
    );
    expect(repeated.says[0]).toBe('Version one.');
    expect(repeated.elements[1]?.attributes.action).toBe(flowMenuUrl(ingress.url, dialled, 2));
    // A call dialled after the edit runs version 2.
    const later = await documentOf(
      await post(flowVoiceUrl(ingress.url, { ...call.ref, flowVersion: 2 }), { CallSid: `${call.callSid}x` }),
    );
    expect(later.says[1]).toBe('Version two.');
    expect((await flowEvents(call.ref.callId, 3)).map((e) => e.flowVersion)).toEqual([1, 1, 2]);
  });

  it('names an unknown key INVALID and offers the menu again; after the retries, goodbye', async () => {
    const call = await callWithFlow([{ version: 1, flow: REMINDER }]);
    const ref = { ...call.ref, flowVersion: 1 };
    const invalid = await documentOf(
      await post(flowMenuUrl(ingress.url, ref, 1), { CallSid: call.callSid, Digits: '5' }),
    );
    expect(invalid.says).toEqual([
      'Sorry, that is not one of the choices.',
      'Press 1 to confirm, 2 to reschedule, 9 to opt out, star to repeat.',
    ]);
    expect(invalid.elements[1]?.attributes.action).toBe(flowMenuUrl(ingress.url, ref, 2));
    // No input at the second offer: maxRetries (1) is used up.
    const goodbye = await documentOf(
      await post(flowMenuUrl(ingress.url, ref, 2), { CallSid: call.callSid, Digits: '' }),
    );
    expect(goodbye.verbs).toEqual(['Say', 'Hangup']);
    expect(goodbye.says).toEqual(['Goodbye.']);
    expect(
      (await flowEvents(call.ref.callId, 2)).map((e) => e.step === 'key' && [e.offer, e.action, e.key]),
    ).toEqual([
      [1, 'INVALID', '5'],
      [2, 'NO_INPUT', undefined],
    ]);
  });

  it('transfers with the campaign caller id; a transfer not answered says the no-answer message', async () => {
    const call = await callWithFlow([{ version: 1, flow: REMINDER }]);
    const ref = { ...call.ref, flowVersion: 1 };
    const dial = await documentOf(
      await post(flowMenuUrl(ingress.url, ref, 1), { CallSid: call.callSid, Digits: '2' }),
    );
    expect(dial.verbs).toEqual(['Dial']);
    expect(dial.elements[1]?.attributes).toEqual({
      callerId: '+442079460000',
      timeout: '20',
      action: flowTransferUrl(ingress.url, ref, 1, '2'),
      method: 'POST',
    });
    const result = await documentOf(
      await post(flowTransferUrl(ingress.url, ref, 1, '2'), {
        CallSid: call.callSid,
        DialCallStatus: 'no-answer',
        DialCallDuration: '0',
      }),
    );
    expect(result.says).toEqual(['Nobody is free, Ada. We will call you back.']);
    expect(result.verbs).toEqual(['Say', 'Hangup']);
    expect(await flowEvents(call.ref.callId, 2)).toEqual([
      expect.objectContaining({ step: 'key', action: 'TRANSFER', transferTo: '+14155550199' }),
      expect.objectContaining({
        step: 'transfer',
        eventId: `${call.callSid}:flow:transfer:1`,
        status: 'NO_ANSWER',
        durationMs: 0,
      }),
    ]);
  });

  it("records the carrier's error from the fallback URL and hangs up", async () => {
    const call = await callWithFlow([{ version: 1, flow: REMINDER }]);
    const ref = { ...call.ref, flowVersion: 1 };
    const response = await post(flowFallbackUrl(ingress.url, ref), {
      CallSid: call.callSid,
      ErrorCode: '12100',
      ErrorUrl: flowVoiceUrl(ingress.url, ref),
    });
    expect((await documentOf(response)).verbs).toEqual(['Hangup']);
    expect(await flowEvents(call.ref.callId, 1)).toEqual([
      expect.objectContaining({
        step: 'error',
        eventId: `${call.callSid}:flow:error`,
        error:
          'the carrier could not run the call flow (error 12100: the document could not be parsed at /flows/twilio/voice)',
      }),
    ]);
  });

  it('answers 400 naming the fields of a signed but malformed request, and hangs up a call it does not have', async () => {
    const url = `${ingress.url}/flows/twilio/menu?tenantId=nope&flow=latest`;
    const form = { CallSid: 'x y', Digits: '1' };
    const malformed = await post(url, form);
    expect(malformed.status).toBe(400);
    const body = (await malformed.json()) as { issues: { field: string }[] };
    expect(body.issues.map((i) => i.field)).toEqual(
      expect.arrayContaining(['CallSid', 'query.campaignId', 'query.flow', 'query.offer']),
    );
    const ghost = {
      tenantId: randomUUID(),
      campaignId: randomUUID(),
      callId: randomUUID(),
      attemptId: randomUUID(),
      attempt: 1,
      flowVersion: 1,
    };
    const response = await post(flowVoiceUrl(ingress.url, ghost), { CallSid: 'CAghost' });
    expect((await documentOf(response)).verbs).toEqual(['Hangup']);
  });
});

describe('carrier ingress flow routes without Kafka or PostgreSQL', () => {
  it('answers 503 when Kafka does not take the event in time (the carrier falls back or retries)', async () => {
    const away = await startIngress({
      KAFKA_BROKERS: `127.0.0.1:${await freePort()}`,
      CARRIER_INGRESS_PUBLISH_TIMEOUT_MS: '200',
    });
    try {
      const call = await callWithFlow([{ version: 1, flow: REMINDER }]);
      const response = await post(flowVoiceUrl(away.url, { ...call.ref, flowVersion: 1 }), {
        CallSid: call.callSid,
      });
      expect(response.status).toBe(503);
    } finally {
      await away.stop();
    }
  });

  it('is not ready, and answers 503, while PostgreSQL does not answer', async () => {
    const away = await startIngress({
      DATABASE_URL: `postgresql://nobody@127.0.0.1:${await freePort()}/none`,
    });
    try {
      // Kafka is connected once a status callback (which needs no PostgreSQL) is taken: then only PostgreSQL is away.
      const ids = { ...(await callWithFlow([])).ref };
      const status = statusCallbackUrl(ingressUrl(away.url, STATUS_WEBHOOK_PATH), ids);
      const completed = { CallSid: 'CAstatus', CallStatus: 'completed' };
      await eventually(async () => (await post(status, completed)).status === 204, 'Kafka connected');
      expect(await (await fetch(`${away.url}/readyz`)).json()).toEqual({ status: 'not ready' });
      const call = await callWithFlow([{ version: 1, flow: REMINDER }]);
      const response = await post(flowVoiceUrl(away.url, { ...call.ref, flowVersion: 1 }), {
        CallSid: call.callSid,
      });
      expect(response.status).toBe(503);
      // The status webhook does not need PostgreSQL (only readiness says it is away).
      expect(await (await fetch(`${ingress.url}/readyz`)).json()).toEqual({ status: 'ready' });
    } finally {
      await away.stop();
    }
  });
});
