import { randomBytes, randomUUID } from 'node:crypto';
import { statusCallbackUrl } from '@outbound/telephony';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimBehaviourPatch } from './behaviour.ts';
import { type RunningSimulator, startSimulator } from './server.ts';
import { type CallbackReceiver, startCallbackReceiver } from './testing/callback-receiver.ts';
import { startTwimlServer, type TwimlReply, type TwimlServer } from './testing/twiml-server.ts';

// The simulator runs each answered call's TwiML against a local server playing the platform's flow routes, which
// checks the signature of every request; status callbacks go to a receiver that checks theirs.

const authToken = randomBytes(24).toString('hex');
const SEED = 7;
const TO = '+14155550123';
const FROM = '+14155550100';

/** Quick calls, all answered by people, and flows that take a few milliseconds: each test changes its subject. */
const QUICK: SimBehaviourPatch = {
  seed: SEED,
  cps: 0,
  outcomes: { answered: 1, busy: 0, noAnswer: 0, failed: 0, voicemail: 0, rejected: 0 },
  ringMs: { min: 5, max: 10 },
  talkMs: { min: 10, max: 20 },
  apiLatencyMs: { min: 0, max: 2 },
  callbackLatencyMs: { min: 0, max: 2 },
  failures: { createError: 0, duplicateCallback: 0, outOfOrderCallback: 0, dropCallback: 0 },
  callbackRetryBaseMs: 5,
  zeroDelay: false,
  flows: true,
  speechCharsPerSecond: 10_000,
  playMs: 5,
  keypresses: {},
  keypressDelayMs: { min: 0, max: 5 },
  amdUnknownRate: 0,
  greetingMs: { min: 5, max: 5 },
  dial: { answerRate: 1, busyRate: 0, ringMs: { min: 5, max: 5 }, talkMs: { min: 10, max: 10 } },
  maxDocuments: 20,
};

const doc = (verbs: string): TwimlReply => ({
  body: `<?xml version="1.0" encoding="UTF-8"?><Response>${verbs}</Response>`,
});
/** The platform's menu: prompts in a Gather that posts even when nothing was pressed. */
const MENU = doc(
  '<Gather input="dtmf" numDigits="1" timeout="0" action="/menu?offer=1" method="POST" actionOnEmptyResult="true">' +
    '<Say voice="Polly.Joanna">Hello &amp; welcome. Your appointment is tomorrow.</Say><Pause length="0"/>' +
    '<Say>Press 1 to confirm, 9 to opt out.</Say></Gather>',
);
const GOODBYE = doc('<Say>Goodbye.</Say><Hangup/>');

let sim: RunningSimulator;
let receiver: CallbackReceiver;
let twiml: TwimlServer;

const basic = () => `Basic ${Buffer.from(`${sim.accountSid}:${authToken}`).toString('base64')}`;

/** A raw create, as the platform sends it; the form can be changed or added to. */
async function create(fields: Record<string, string | undefined>): Promise<Response> {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) form.set(name, value);
  form.append('StatusCallbackEvent', 'answered');
  form.append('StatusCallbackEvent', 'completed');
  return fetch(`${sim.url}/2010-04-01/Accounts/${sim.accountSid}/Calls.json`, {
    method: 'POST',
    headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
}

interface Placed {
  sid: string;
  attemptId: string;
  campaignId: string;
}

async function call(
  options: { url?: string; fallbackUrl?: string; machineDetection?: string; campaignId?: string } = {},
): Promise<Placed> {
  const ref = {
    tenantId: randomUUID(),
    campaignId: options.campaignId ?? randomUUID(),
    callId: randomUUID(),
    attemptId: randomUUID(),
    attempt: 1,
  };
  const response = await create({
    To: TO,
    From: FROM,
    Url: options.url ?? `${twiml.url}/voice`,
    FallbackUrl: options.fallbackUrl,
    MachineDetection: options.machineDetection,
    StatusCallback: statusCallbackUrl(receiver.url, ref),
  });
  expect(response.status).toBe(201);
  const { sid } = (await response.json()) as { sid: string };
  return { sid, attemptId: ref.attemptId, campaignId: ref.campaignId };
}

/** Places a call and waits for its final status callback; returns the flow requests it made. */
async function completed(options: Parameters<typeof call>[0] = {}) {
  const placed = await call(options);
  const callbacks = await receiver.waitForFinal(placed.sid);
  const final = callbacks.at(-1);
  expect(final?.event).toMatchObject({ event: 'completed', outcome: expect.any(String) });
  return { ...placed, requests: twiml.of(placed.sid), final };
}

const flowOf = (campaignId: string) => sim.stats().campaigns[campaignId]?.flow;

beforeAll(async () => {
  receiver = await startCallbackReceiver({ authToken });
  sim = await startSimulator({ authToken, behaviour: QUICK });
});

afterAll(async () => {
  await sim?.stop();
  await receiver?.stop();
});

beforeEach(async () => {
  sim.reset();
  sim.configure(QUICK);
  twiml = await startTwimlServer(authToken);
});

afterEach(async () => {
  // Every flow request and callback was signed with the auth token over the URL it was sent to.
  expect(twiml.refused).toEqual([]);
  expect(receiver.refused).toEqual([]);
  await twiml.stop();
});

describe('an answered call runs its TwiML', () => {
  it("posts the Url with Twilio's parameters, gathers a key, follows the action, then completes", async () => {
    sim.configure({ keypresses: { '1': 1 } });
    twiml.route('/voice', MENU);
    twiml.route('/menu', GOODBYE);
    const { sid, attemptId, campaignId, requests, final } = await completed({ machineDetection: 'Enable' });

    expect(requests.map((r) => r.path)).toEqual(['/voice', '/menu']);
    const [voice, menu] = requests;
    expect(Object.fromEntries(voice?.form ?? [])).toEqual({
      AccountSid: sim.accountSid,
      ApiVersion: '2010-04-01',
      CallSid: sid,
      CallStatus: 'in-progress',
      Called: TO,
      Caller: FROM,
      Direction: 'outbound-api',
      From: FROM,
      To: TO,
      AnsweredBy: 'human',
    });
    expect(menu?.url).toBe(`${twiml.url}/menu?offer=1`);
    expect(Object.fromEntries(menu?.form ?? [])).toMatchObject({ CallSid: sid, Digits: '1' });
    expect(final?.event).toMatchObject({ outcome: 'ANSWERED', durationMs: 0 });

    const stats = sim.stats();
    expect(stats.campaigns[campaignId]?.flow).toEqual({
      documents: 2,
      gathers: 1,
      keypresses: { '1': 1 },
      transfers: {},
      applicationErrors: 0,
      fallbacks: 0,
      errors: {},
    });
    // When the key was pressed: after the menu was fetched, before its action was posted.
    const record = stats.flows.keypresses.byCall[sid];
    expect(record).toEqual({
      callSid: sid,
      attemptId,
      campaignId,
      presses: [{ key: '1', at: expect.any(Number) }],
    });
    expect(stats.flows.keypresses.byAttempt[attemptId]).toEqual(record);
    expect(record?.presses[0]?.at).toBeGreaterThanOrEqual(voice?.at ?? Number.NaN);
    expect(record?.presses[0]?.at).toBeLessThanOrEqual(menu?.at ?? Number.NaN);
    expect(stats.flows.requests).toMatchObject({ posted: 2, delivered: 2, failed: 0, retried: 0 });
  });

  it('posts empty Digits when nothing was pressed and actionOnEmptyResult asks; otherwise goes on after the Gather', async () => {
    twiml.route('/voice', MENU);
    twiml.route(
      '/menu',
      doc('<Gather timeout="0" action="/never"><Say>Last chance.</Say></Gather><Redirect>/after</Redirect>'),
    );
    twiml.route('/after', GOODBYE);
    const { campaignId, requests } = await completed();
    expect(requests.map((r) => [r.path, r.form.get('Digits')])).toEqual([
      ['/voice', null],
      ['/menu', ''],
      ['/after', null],
    ]);
    expect(flowOf(campaignId)).toMatchObject({ documents: 3, gathers: 2, keypresses: {} });
    expect(sim.stats().flows.keypresses.byCall).toEqual({});
  });

  it('lasts as long as its prompts take: CallDuration from answer to hang-up', async () => {
    sim.configure({ speechCharsPerSecond: 100 });
    // 50 characters at 100 per second, twice: one second.
    twiml.route('/voice', doc(`<Say loop="2">${'x'.repeat(50)}</Say>`));
    const { final } = await completed();
    expect(final?.form.get('CallDuration')).toBe('1');
  });

  it('replays the same keypresses under the same seed, from each call its own stream', async () => {
    sim.configure({ keypresses: { '1': 0.3, '9': 0.2 } });
    twiml.route('/voice', MENU);
    twiml.route('/menu', GOODBYE);
    const run = async () => {
      const sids: string[] = [];
      // One create at a time: the n-th create draws from stream n whatever the calls' timing afterwards.
      for (let i = 0; i < 30; i++) sids.push((await call()).sid);
      await Promise.all(sids.map((sid) => receiver.waitForFinal(sid)));
      const pressed = sids.map(
        (sid) => sim.stats().flows.keypresses.byCall[sid]?.presses.map((p) => p.key) ?? [],
      );
      // What the platform was sent agrees with what the carrier says was pressed.
      const digits = sids.map((sid) =>
        twiml
          .of(sid)
          .find((r) => r.path === '/menu')
          ?.form.get('Digits'),
      );
      expect(digits).toEqual(pressed.map((keys) => keys[0] ?? ''));
      return digits;
    };
    const first = await run();
    expect(new Set(first)).toEqual(new Set(['1', '9', '']));
    sim.reset();
    expect(await run()).toEqual(first);
    sim.configure({ seed: SEED + 1 });
    expect(await run()).not.toEqual(first);
  });

  it('ends a redirect loop after maxDocuments documents, as an application error', async () => {
    sim.configure({ maxDocuments: 5 });
    twiml.route('/voice', doc('<Redirect>/voice</Redirect>'));
    const { campaignId, requests } = await completed();
    expect(requests.map((r) => r.path)).toEqual(Array(5).fill('/voice'));
    expect(flowOf(campaignId)).toMatchObject({ documents: 5, applicationErrors: 1, fallbacks: 0 });
  });

  it('takes no time in zero-delay mode: long prompts, pauses, timeouts and transfers cost only their requests', async () => {
    sim.configure({ zeroDelay: true, dial: { answerRate: 0 } });
    twiml.route(
      '/voice',
      doc(
        `<Say loop="10">${'x'.repeat(5000)}</Say><Pause length="600"/>` +
          '<Gather timeout="600" action="/menu" actionOnEmptyResult="true"><Play loop="100">https://x.test/a.mp3</Play></Gather>',
      ),
    );
    twiml.route('/menu', doc('<Dial timeout="600" action="/transfer"><Number>+14155550199</Number></Dial>'));
    twiml.route('/transfer', GOODBYE);
    const started = performance.now();
    const { requests, final } = await completed();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(requests.map((r) => r.path)).toEqual(['/voice', '/menu', '/transfer']);
    expect(requests[2]?.form.get('DialCallStatus')).toBe('no-answer');
    expect(final?.form.get('CallDuration')).toBe('0');
  });

  it('stops the flow when the call is hung up through the API', async () => {
    twiml.route('/voice', doc('<Pause length="60"/><Redirect>/next</Redirect>'));
    const { sid, campaignId } = await call();
    await twiml.waitFor((all) => all.some((r) => r.form.get('CallSid') === sid), { description: 'the Url' });
    const hangup = await fetch(`${sim.url}/2010-04-01/Accounts/${sim.accountSid}/Calls/${sid}.json`, {
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Status=completed',
    });
    expect(hangup.status).toBe(200);
    const callbacks = await receiver.waitForFinal(sid);
    expect(callbacks.filter((c) => c.event.event === 'completed')).toHaveLength(1);
    expect(callbacks.at(-1)?.event).toMatchObject({ outcome: 'ANSWERED', durationMs: 0 });
    await sim.simulator.whenIdle();
    expect(sim.stats().campaigns[campaignId]).toMatchObject({ active: 0, outcomes: { ANSWERED: 1 } });
  });
});

describe('transfers (<Dial>)', () => {
  it.each([
    ['answered', { answerRate: 1, busyRate: 0, talkMs: { min: 1000, max: 1000 } }, 'completed', '1'],
    ['busy', { answerRate: 0, busyRate: 1 }, 'busy', '0'],
    ['not answered', { answerRate: 0, busyRate: 0 }, 'no-answer', '0'],
  ] as const)(
    '%s: posts the action with DialCallStatus, DialCallDuration and DialCallSid',
    async (_, dial, status, duration) => {
      sim.configure({ dial });
      twiml.route(
        '/voice',
        doc(
          `<Say>Connecting you.</Say><Dial callerId="${FROM}" timeout="1" action="/transfer?key=2" method="POST">` +
            '<Number>+14155550199</Number></Dial><Say>Never reached.</Say>',
        ),
      );
      twiml.route('/transfer', GOODBYE);
      const { campaignId, requests, final } = await completed();
      expect(requests.map((r) => r.path)).toEqual(['/voice', '/transfer']);
      expect(Object.fromEntries(requests[1]?.form ?? [])).toMatchObject({
        DialCallStatus: status,
        DialCallDuration: duration,
        DialCallSid: expect.stringMatching(/^CA[0-9a-f]{32}$/),
      });
      expect(flowOf(campaignId)).toMatchObject({ documents: 2, transfers: { [status]: 1 } });
      // The transfer's talk (or the ring until the timeout) is part of the call.
      expect(final?.form.get('CallDuration')).toBe(status === 'busy' ? '0' : '1');
    },
  );

  it('fails a Dial without a valid number at once, and goes on with the document when there is no action', async () => {
    twiml.route('/voice', doc('<Dial><Number>555-0199</Number></Dial><Redirect>/after</Redirect>'));
    twiml.route('/after', GOODBYE);
    const { campaignId, requests } = await completed();
    expect(requests.map((r) => r.path)).toEqual(['/voice', '/after']);
    expect(flowOf(campaignId)).toMatchObject({ transfers: { failed: 1 } });
  });
});

describe('answering machine detection', () => {
  const voicemail = { outcomes: { answered: 0, voicemail: 1 } };

  it('DetectMessageEnd: a machine is sent to the Url once its greeting ended (the beep), and never presses a key', async () => {
    sim.configure({ ...voicemail, greetingMs: { min: 1000, max: 1000 }, keypresses: { '1': 1 } });
    twiml.route('/voice', MENU);
    twiml.route('/menu', GOODBYE);
    const { sid, requests, final } = await completed({ machineDetection: 'DetectMessageEnd' });
    const answered = receiver.received.find(
      (r) => r.event.providerCallId === sid && r.event.event === 'answered',
    );
    expect((requests[0]?.at ?? 0) - (answered?.at ?? Number.NaN)).toBeGreaterThanOrEqual(950);
    expect(requests.map((r) => [r.path, r.form.get('AnsweredBy'), r.form.get('Digits')])).toEqual([
      ['/voice', 'machine_end_beep', null],
      ['/menu', 'machine_end_beep', ''],
    ]);
    expect(final?.event.outcome).toBe('VOICEMAIL');
  });

  it('Enable: a machine at once (machine_start), a person as human or, for the configured share, unknown; none without detection', async () => {
    sim.configure({ ...voicemail, greetingMs: { min: 1000, max: 1000 } });
    twiml.route('/voice', GOODBYE);
    const machine = await completed({ machineDetection: 'Enable' });
    const answered = receiver.received.find(
      (r) => r.event.providerCallId === machine.sid && r.event.event === 'answered',
    );
    expect((machine.requests[0]?.at ?? 0) - (answered?.at ?? Number.NaN)).toBeLessThan(900);
    expect(machine.requests[0]?.form.get('AnsweredBy')).toBe('machine_start');

    sim.configure({ outcomes: { answered: 1, voicemail: 0 }, amdUnknownRate: 1 });
    const unknown = await completed({ machineDetection: 'Enable' });
    expect(unknown.requests[0]?.form.get('AnsweredBy')).toBe('unknown');
    expect(unknown.final?.event.outcome).toBe('ANSWERED');
    const undetected = await completed();
    expect(undetected.requests[0]?.form.has('AnsweredBy')).toBe(false);
  });
});

describe("a document that cannot be run: the FallbackUrl, then Twilio's application error", () => {
  it.each([
    ['malformed XML', 12100, { body: '<Response><Say>Hello</Response>' }],
    ['an unsupported verb', 12200, doc('<Say>Leave a message.</Say><Record maxLength="20"/>')],
    ['an HTTP 500', 11200, { status: 500 }],
    ['an answer that is not XML', 12300, { contentType: 'application/json', body: '{"say":"hello"}' }],
    ['a document over 64 KB', 11750, doc(`<Say>${'a'.repeat(70_000)}</Say>`)],
  ] as const)(
    '%s: posts the FallbackUrl with ErrorCode %s and ErrorUrl, and runs its document',
    async (_, code, reply) => {
      twiml.route('/voice', reply);
      twiml.route('/fallback', GOODBYE);
      const { campaignId, requests } = await completed({ fallbackUrl: `${twiml.url}/fallback` });
      expect(requests.map((r) => r.path)).toEqual(['/voice', '/fallback']);
      expect(Object.fromEntries(requests[1]?.form ?? [])).toMatchObject({
        ErrorCode: String(code),
        ErrorUrl: `${twiml.url}/voice`,
        CallStatus: 'in-progress',
      });
      expect(flowOf(campaignId)).toMatchObject({
        documents: 1,
        fallbacks: 1,
        applicationErrors: 0,
        errors: { [code]: 1 },
      });
    },
  );

  it('ends the call at once without a FallbackUrl, or when it fails too', async () => {
    twiml.route('/voice', { status: 500 });
    const alone = await completed();
    expect(alone.requests.map((r) => r.path)).toEqual(['/voice']);
    expect(flowOf(alone.campaignId)).toMatchObject({
      documents: 0,
      applicationErrors: 1,
      errors: { 11200: 1 },
    });
    expect(alone.final?.event.outcome).toBe('ANSWERED');

    twiml.route('/voice', doc('<Enqueue>support</Enqueue>'));
    twiml.route('/fallback', { status: 503 });
    const twice = await completed({ fallbackUrl: `${twiml.url}/fallback` });
    expect(twice.requests.map((r) => r.path)).toEqual(['/voice', '/fallback']);
    expect(flowOf(twice.campaignId)).toMatchObject({
      documents: 0,
      fallbacks: 1,
      applicationErrors: 1,
      errors: { 12200: 1, 11200: 1 },
    });
  });

  it('retries the Url as its connection overrides ask, signed over the URL without them', async () => {
    twiml.route('/voice', (_, n) => (n === 0 ? { status: 503 } : GOODBYE));
    const { campaignId, requests } = await completed({ url: `${twiml.url}/voice?flow=1#rc=2&rp=5xx` });
    expect(requests.map((r) => r.url)).toEqual([`${twiml.url}/voice?flow=1`, `${twiml.url}/voice?flow=1`]);
    expect(flowOf(campaignId)).toMatchObject({ documents: 1, fallbacks: 0, applicationErrors: 0 });
    expect(sim.stats().flows.requests).toMatchObject({ posted: 2, retried: 1, delivered: 1 });
  });

  it('a flow request signed with another token is refused by the platform: 11200, application error', async () => {
    const stranger = await startTwimlServer('not-the-auth-token-of-this-account');
    try {
      stranger.route('/voice', GOODBYE);
      const { campaignId } = await completed({ url: `${stranger.url}/voice` });
      expect(stranger.refused).toEqual([`POST ${stranger.url}/voice: bad signature`]);
      expect(flowOf(campaignId)).toMatchObject({ applicationErrors: 1, errors: { 11200: 1 } });
    } finally {
      await stranger.stop();
    }
  });
});

describe('the create', () => {
  it("refuses a missing or invalid Url or FallbackUrl with Twilio's 21205, placing nothing", async () => {
    const base = { To: TO, From: FROM, Url: `${twiml.url}/voice` };
    for (const fields of [
      { ...base, Url: undefined },
      { ...base, Url: 'not a url' },
      { ...base, Url: `${twiml.url}/voice#rc=9` },
      { ...base, FallbackUrl: 'ftp://example.test/fallback' },
    ]) {
      const response = await create(fields);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 21205 });
    }
    expect(sim.stats()).toMatchObject({ totalCreates: 0, invalidRequests: 4 });
  });
});
