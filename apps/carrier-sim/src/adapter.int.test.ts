import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CallOutcome,
  type OriginateRequest,
  ProviderRejectedError,
  ProviderUnavailableError,
  STATUS_CALLBACK_EVENTS,
  statusCallbackUrl,
  TwilioProvider,
} from '@outbound/telephony';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_BEHAVIOUR, planCall, type SimBehaviourPatch, type SimOutcome } from './behaviour.ts';
import { deriveSeed, mulberry32 } from './rng.ts';
import { type RunningSimulator, startSimulator } from './server.ts';
import {
  type CallbackReceiver,
  type ReceivedCallback,
  type ReceiverOptions,
  startCallbackReceiver,
} from './testing/callback-receiver.ts';

// The production adapter against the simulator over real HTTP, with signed callbacks checked by a local receiver.

const authToken = randomBytes(24).toString('hex');
const tenantId = randomUUID();
const SEED = 42;

/**
 * Fast calls, all answered, no failures, no CPS limit: each test changes what it is about. These tests are about the
 * REST API and the status callbacks, so an answered call talks `talkMs` without fetching its TwiML (flows off; the
 * Url is a closed port); flow.int.test.ts runs the TwiML.
 */
const FAST: SimBehaviourPatch = {
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
  flows: false,
};

const ONLY = (outcome: SimOutcome) => ({
  outcomes: { answered: 0, busy: 0, noAnswer: 0, failed: 0, voicemail: 0, rejected: 0, [outcome]: 1 },
});

const OUTCOME_OF: Record<SimOutcome, CallOutcome> = {
  answered: 'ANSWERED',
  busy: 'BUSY',
  noAnswer: 'NO_ANSWER',
  failed: 'FAILED',
  voicemail: 'VOICEMAIL',
  rejected: 'REJECTED',
};

let sim: RunningSimulator;
let receiver: CallbackReceiver;
let provider: TwilioProvider;

function providerFor(
  running: RunningSimulator,
  token = authToken,
  callbackOverrides?: string,
): TwilioProvider {
  return new TwilioProvider({
    ...(callbackOverrides ? { callbackOverrides } : {}),
    baseUrl: running.url,
    accountSid: running.accountSid,
    authToken: token,
    // Every callback the carrier can send, to see them all.
    statusCallbackEvents: STATUS_CALLBACK_EVENTS,
    timeoutMs: 5_000,
  });
}

function attempt(campaignId: string = randomUUID(), callbackBase = receiver.url): OriginateRequest {
  const ref = { tenantId, campaignId, callId: randomUUID(), attemptId: randomUUID(), attempt: 1 };
  return {
    ...ref,
    to: '+14155550123',
    from: '+14155550100',
    statusCallbackUrl: statusCallbackUrl(callbackBase, ref),
    flowUrl: 'http://127.0.0.1:1/flows/twilio/voice',
    fallbackUrl: 'http://127.0.0.1:1/flows/twilio/fallback',
    machineDetection: 'Enable',
  };
}

const of = (sid: string) => (all: readonly ReceivedCallback[]) =>
  all.filter((r) => r.event.providerCallId === sid);
const events = (callbacks: readonly ReceivedCallback[]) => callbacks.map((c) => c.event.event);

beforeAll(async () => {
  receiver = await startCallbackReceiver({ authToken });
  sim = await startSimulator({ authToken, seed: SEED });
  provider = providerFor(sim);
});

afterAll(async () => {
  await sim?.stop();
  await receiver?.stop();
});

beforeEach(() => {
  sim.reset();
  sim.configure(FAST);
});

describe('TwilioProvider against the carrier simulator', () => {
  it('originates: a sid at once, then signed callbacks in order with the attempt ids', async () => {
    const request = attempt();
    const { providerCallId } = await provider.originate(request);
    expect(providerCallId).toMatch(/^CA[0-9a-f]{32}$/);

    const callbacks = await receiver.waitForFinal(providerCallId);
    expect(events(callbacks)).toEqual(['initiated', 'ringing', 'answered', 'completed']);
    expect(callbacks.map((c) => c.form.get('SequenceNumber'))).toEqual(['0', '1', '2', '3']);
    expect(callbacks.at(-1)?.event).toMatchObject({
      tenantId,
      campaignId: request.campaignId,
      callId: request.callId,
      attemptId: request.attemptId,
      attempt: 1,
      providerCallId,
      eventId: `${providerCallId}:completed:3`,
      event: 'completed',
      outcome: 'ANSWERED',
      durationMs: 0, // 10-20 ms of talk: Twilio reports whole seconds
    });
    expect(callbacks.at(-1)?.form.get('AnsweredBy')).toBe('human');
    expect(receiver.refused).toEqual([]);
    expect(sim.stats().createsByAttempt).toEqual({ [request.attemptId]: 1 });

    // The call resource, as Twilio serves it.
    const resource = await fetch(
      `${sim.url}/2010-04-01/Accounts/${sim.accountSid}/Calls/${providerCallId}.json`,
      {
        headers: {
          authorization: `Basic ${Buffer.from(`${sim.accountSid}:${authToken}`).toString('base64')}`,
        },
      },
    );
    expect(await resource.json()).toMatchObject({ sid: providerCallId, status: 'completed', to: request.to });
  });

  it.each([
    ['busy', ['initiated', 'ringing', 'completed']],
    ['noAnswer', ['initiated', 'ringing', 'completed']],
    ['failed', ['initiated', 'completed']],
    ['voicemail', ['initiated', 'ringing', 'answered', 'completed']],
    ['rejected', ['initiated', 'completed']],
  ] as const)('reports a %s call', async (outcome, sequence) => {
    sim.configure(ONLY(outcome));
    const { providerCallId } = await provider.originate(attempt());
    const callbacks = await receiver.waitForFinal(providerCallId);
    expect(events(callbacks)).toEqual(sequence);
    expect(callbacks.at(-1)?.event.outcome).toBe(OUTCOME_OF[outcome]);
    if (outcome === 'voicemail') expect(callbacks.at(-1)?.form.get('AnsweredBy')).toBe('machine_start');
    if (outcome === 'rejected') expect(callbacks.at(-1)?.form.get('SipResponseCode')).toBe('603');
  });

  it('refuses creates over the CPS limit with a retryable rejection', async () => {
    sim.configure({ cps: 2 });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => provider.originate(attempt())));
    const placed = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(placed.length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeGreaterThanOrEqual(5);
    for (const err of refused) {
      expect(err).toBeInstanceOf(ProviderRejectedError);
      expect(err).toMatchObject({ retryable: true, code: 'CPS_EXCEEDED', status: 429 });
    }
    const stats = sim.stats();
    expect(stats.cpsRejections).toBe(refused.length);
    expect(stats.totalCreates).toBe(placed.length);
  });

  it('holds the CPS limit over any one second, not a refilling bucket: a second create waits a full second', async () => {
    sim.configure({ cps: 3 });
    const campaignId = randomUUID();
    const first = performance.now();
    await Promise.all([1, 2, 3].map(() => provider.originate(attempt(campaignId))));
    // Half a second later a token bucket of 3 per second would have refilled one and a half: a strict carrier has
    // the three creates of the last second and refuses.
    await sleep(500 - (performance.now() - first));
    await expect(provider.originate(attempt(campaignId))).rejects.toMatchObject({ code: 'CPS_EXCEEDED' });
    // A full second after the first three, there is room again.
    await sleep(1000 - (performance.now() - first) + 20);
    await provider.originate(attempt(campaignId));
    const stats = sim.stats();
    expect(stats.cpsRejections).toBe(1);
    expect(stats.maxCreatesPerSecond).toBe(3);
    expect(stats.campaigns[campaignId]).toMatchObject({ creates: 4, maxPerSecond: 3 });
  });

  it('refuses an invalid To for good, and bad credentials', async () => {
    const bad = await provider.originate({ ...attempt(), to: '555-0123' }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ProviderRejectedError);
    expect(bad).toMatchObject({ retryable: false, code: '21211', status: 400 });

    const stranger = await providerFor(sim, 'not-the-token-at-all')
      .originate(attempt())
      .catch((e: unknown) => e);
    expect(stranger).toBeInstanceOf(ProviderRejectedError);
    expect(stranger).toMatchObject({ retryable: false, code: '20003', status: 401 });

    expect(sim.stats()).toMatchObject({ invalidRequests: 2, totalCreates: 0 });
  });

  it('reports an injected 500 as ProviderUnavailableError, and never retries it', async () => {
    sim.configure({ failures: { createError: 1 } });
    const err = await provider.originate(attempt()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderUnavailableError);
    expect(err).toMatchObject({ status: 500, callMayExist: true });
    expect(sim.stats()).toMatchObject({ createErrors: 1, totalCreates: 0, createsByAttempt: {} });
  });

  it('hangs up an answered call (completed) and a ringing one (canceled); hanging up again is fine', async () => {
    sim.configure({ talkMs: { min: 60_000, max: 60_000 } });
    const answered = (await provider.originate(attempt())).providerCallId;
    await receiver.waitFor((all) => of(answered)(all).some((r) => r.event.event === 'answered'));
    await provider.hangup(answered);
    const talk = await receiver.waitForFinal(answered);
    expect(talk.at(-1)?.event).toMatchObject({ outcome: 'ANSWERED', durationMs: 0 });
    await expect(provider.hangup(answered)).resolves.toBeUndefined();

    sim.configure({ ringMs: { min: 60_000, max: 60_000 } });
    const ringing = (await provider.originate(attempt())).providerCallId;
    await receiver.waitFor((all) => of(ringing)(all).some((r) => r.event.event === 'ringing'));
    await provider.hangup(ringing);
    const ring = await receiver.waitForFinal(ringing);
    expect(events(ring)).toEqual(['initiated', 'ringing', 'completed']);
    expect(ring.at(-1)?.event.outcome).toBe('CANCELED');
    expect(sim.stats()).toMatchObject({ hangups: 2, active: 0 });
  });

  it('reads calls back: one by its sid (404 unknown), and by number and caller id, newest first', async () => {
    sim.configure({ talkMs: { min: 60_000, max: 60_000 } });
    const to = `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
    const before = new Date(Date.now() - 1000);
    const first = (await provider.originate({ ...attempt(), to })).providerCallId;
    const second = (await provider.originate({ ...attempt(), to })).providerCallId;
    await provider.originate(attempt());
    await receiver.waitFor((all) => of(first)(all).some((r) => r.event.event === 'answered'));
    expect(await provider.fetchCall(first)).toMatchObject({
      providerCallId: first,
      to,
      from: '+14155550100',
      event: 'answered',
      status: 'in-progress',
    });
    expect(await provider.fetchCall('CA00000000000000000000000000000000')).toBeNull();

    await provider.hangup(first);
    await receiver.waitForFinal(first);
    const ended = await provider.fetchCall(first);
    expect(ended).toMatchObject({ event: 'completed', outcome: 'ANSWERED', status: 'completed' });
    expect(ended?.endedAt).toBeInstanceOf(Date);

    const found = await provider.findCalls({
      to,
      from: '+14155550100',
      createdAfter: before,
      createdBefore: new Date(Date.now() + 1000),
    });
    expect(new Set(found.map((c) => c.providerCallId))).toEqual(new Set([first, second]));
    const created = found.map((c) => c.createdAt.getTime());
    expect(created).toEqual([...created].sort((a, b) => b - a));
    expect(
      await provider.findCalls({
        to,
        from: '+14155550100',
        createdAfter: new Date(Date.now() + 60_000),
        createdBefore: new Date(Date.now() + 120_000),
      }),
    ).toEqual([]);
    await provider.hangup(second);
  });

  it('records the concurrency of each campaign', async () => {
    sim.configure({ talkMs: { min: 60_000, max: 60_000 } });
    const a = randomUUID();
    const b = randomUUID();
    const requests = [
      ...Array.from({ length: 5 }, () => attempt(a)),
      ...Array.from({ length: 2 }, () => attempt(b)),
    ];
    const sent = Date.now();
    const sids = (await Promise.all(requests.map((r) => provider.originate(r)))).map((r) => r.providerCallId);
    const answered = Date.now();
    await receiver.waitFor(
      (all) => sids.every((sid) => of(sid)(all).some((r) => r.event.event === 'answered')),
      { description: 'seven answered calls' },
    );
    let stats = sim.stats();
    // When the creates arrived: between sending the first and receiving the last answer.
    for (const campaign of [stats.campaigns[a], stats.campaigns[b]]) {
      expect(campaign?.firstCreateAt).toBeGreaterThanOrEqual(sent);
      expect(campaign?.lastCreateAt).toBeGreaterThanOrEqual(campaign?.firstCreateAt ?? Number.NaN);
      expect(campaign?.lastCreateAt).toBeLessThanOrEqual(answered);
    }
    expect(stats.campaigns[a]).toMatchObject({ active: 5, maxActive: 5, creates: 5 });
    expect(stats.campaigns[b]).toMatchObject({ active: 2, maxActive: 2, creates: 2 });

    await Promise.all(sids.map((sid) => provider.hangup(sid)));
    await Promise.all(sids.map((sid) => receiver.waitForFinal(sid)));
    await sim.simulator.whenIdle();
    stats = sim.stats();
    expect(stats.campaigns[a]).toMatchObject({ active: 0, maxActive: 5, outcomes: { ANSWERED: 5 } });
    expect(stats.campaigns[b]).toMatchObject({ active: 0, maxActive: 2, outcomes: { ANSWERED: 2 } });
    expect(stats).toMatchObject({ active: 0, maxActive: 7, duplicateAttempts: [] });
  });

  it('replays the same outcomes under the same seed', async () => {
    sim.configure({ outcomes: DEFAULT_BEHAVIOUR.outcomes, zeroDelay: true });
    const run = async () => {
      const outcomes: (CallOutcome | undefined)[] = [];
      for (let i = 0; i < 25; i++) {
        const { providerCallId } = await provider.originate(attempt());
        outcomes.push((await receiver.waitForFinal(providerCallId)).at(-1)?.event.outcome);
      }
      return outcomes;
    };
    const first = await run();
    sim.reset();
    const second = await run();
    expect(second).toEqual(first);
    // And they are the seed's plan: the n-th create's outcome comes from stream (seed, n).
    const planned = first.map(
      (_, n) => OUTCOME_OF[planCall(mulberry32(deriveSeed(SEED, n)), sim.simulator.behaviour).outcome],
    );
    expect(first).toEqual(planned);
    expect(new Set(first).size).toBeGreaterThan(1);

    sim.configure({ seed: SEED + 1 });
    expect(await run()).not.toEqual(first);
  });

  it('runs 200 calls at once in zero-delay mode, each attempt dialled once', async () => {
    sim.configure({ zeroDelay: true, outcomes: DEFAULT_BEHAVIOUR.outcomes });
    const campaign = randomUUID();
    const started = performance.now();
    const results = await Promise.all(
      Array.from({ length: 200 }, () => provider.originate(attempt(campaign))),
    );
    const sids = new Set(results.map((r) => r.providerCallId));
    await receiver.waitFor(
      (all) =>
        all.filter((r) => r.event.event === 'completed' && sids.has(r.event.providerCallId)).length === 200,
      { description: '200 final callbacks' },
    );
    await sim.simulator.whenIdle();
    const elapsed = performance.now() - started;
    const stats = sim.stats();
    expect(stats).toMatchObject({ totalCreates: 200, active: 0, duplicateAttempts: [] });
    expect(Object.values(stats.createsByAttempt)).toEqual(Array(200).fill(1));
    expect(stats.campaigns[campaign]?.active).toBe(0);
    expect(Object.values(stats.campaigns[campaign]?.outcomes ?? {}).reduce((s, n) => s + n, 0)).toBe(200);
    expect(receiver.refused).toEqual([]);
    expect(elapsed).toBeLessThan(10_000);
  });
});

describe('failure injection', () => {
  it('duplicates callbacks with the same eventId', async () => {
    sim.configure({ failures: { duplicateCallback: 1 } });
    const { providerCallId } = await provider.originate(attempt());
    const callbacks = await receiver.waitFor(
      (all) => of(providerCallId)(all).filter((r) => r.event.event === 'completed').length === 2,
    );
    const mine = of(providerCallId)(callbacks);
    expect(events(mine)).toEqual([
      'initiated',
      'initiated',
      'ringing',
      'ringing',
      'answered',
      'answered',
      'completed',
      'completed',
    ]);
    expect(new Set(mine.map((c) => c.event.eventId)).size).toBe(4);
    expect(sim.stats().callbacks.duplicated).toBe(4);
  });

  it('delivers the final callback before the ringing one', async () => {
    sim.configure({ failures: { outOfOrderCallback: 1 } });
    const { providerCallId } = await provider.originate(attempt());
    const mine = of(providerCallId)(await receiver.waitFor((all) => of(providerCallId)(all).length === 4));
    expect(events(mine)).toEqual(['initiated', 'answered', 'completed', 'ringing']);
    // Sequence numbers keep the carrier's order, so a consumer can tell.
    expect(mine.map((c) => c.form.get('SequenceNumber'))).toEqual(['0', '2', '3', '1']);
    expect(sim.stats().callbacks.outOfOrder).toBe(1);
  });

  it('drops callbacks, and the call still stops counting as active', async () => {
    sim.configure({ failures: { dropCallback: 1 } });
    const { providerCallId } = await provider.originate(attempt());
    await sim.simulator.whenIdle();
    expect(of(providerCallId)(receiver.received)).toEqual([]);
    expect(sim.stats()).toMatchObject({ active: 0, callbacks: { dropped: 4, posted: 0 } });
  });
});

describe("callback retries follow the StatusCallback URL's connection overrides", () => {
  /** Originates one call whose callbacks go to a receiver answering as `respond` says; returns it once idle. */
  async function callTo(respond: ReceiverOptions['respond'], overrides?: string) {
    sim.reset();
    sim.configure(FAST);
    const flaky = await startCallbackReceiver({ authToken, ...(respond ? { respond } : {}) });
    try {
      await providerFor(sim, authToken, overrides).originate(attempt(randomUUID(), flaky.url));
      await sim.simulator.whenIdle();
      // Signed over the URL without its fragment, which is never sent: every callback verified.
      expect(flaky.refused).toEqual([]);
      return { received: events(flaky.received), callbacks: sim.stats().callbacks };
    } finally {
      await flaky.stop();
    }
  }
  const finalOnly = (status: number | 'no-answer') => (_: number, form: URLSearchParams) =>
    form.get('CallStatus') === 'completed' ? status : undefined;

  it('retries 5xx answers under rp=5xx', async () => {
    const { received, callbacks } = await callTo((n) => (n < 2 ? 503 : undefined), 'rc=3&rp=5xx');
    expect(received).toEqual(['initiated', 'ringing', 'answered', 'completed']);
    expect(callbacks).toMatchObject({ posted: 6, retried: 2, delivered: 4, failed: 0 });
  });

  it('tries a callback once when the URL asks for nothing, as Twilio does', async () => {
    const { received, callbacks } = await callTo((n) => (n === 0 ? 503 : undefined));
    expect(received).toEqual(['ringing', 'answered', 'completed']);
    expect(callbacks).toMatchObject({ posted: 4, retried: 0, delivered: 3, failed: 1 });
  });

  it('gives up on a failure rp does not name, and after rc retries', async () => {
    const refused = await callTo((n) => (n === 0 ? 400 : undefined), 'rc=3&rp=5xx');
    expect(refused.callbacks).toMatchObject({ posted: 4, retried: 0, failed: 1 });
    const down = await callTo(finalOnly(503), 'rc=2&rp=all');
    expect(down.received).toEqual(['initiated', 'ringing', 'answered']);
    expect(down.callbacks).toMatchObject({ posted: 6, retried: 2, delivered: 3, failed: 1 });
  });

  it('waits rt for an answer, retries a read timeout under rp=rt, and stops at tt', async () => {
    const slow = await callTo((n) => (n === 0 ? 'no-answer' : undefined), 'rc=1&rp=rt&rt=200');
    expect(slow.received).toEqual(['initiated', 'ringing', 'answered', 'completed']);
    expect(slow.callbacks).toMatchObject({ posted: 5, retried: 1, delivered: 4, failed: 0 });
    // Five retries of 300 ms each do not fit in 500 ms: the total time ends them first.
    const hung = await callTo(finalOnly('no-answer'), 'rc=5&rp=all&rt=300&tt=500');
    expect(hung.received).toEqual(['initiated', 'ringing', 'answered']);
    expect(hung.callbacks.failed).toBe(1);
    expect(hung.callbacks.retried).toBeLessThan(5);
  });

  it('measures how long each try took to be answered', async () => {
    const { callbacks } = await callTo(undefined, 'rc=1');
    expect(callbacks.latencyMs).toMatchObject({ n: 4 });
    expect(callbacks.latencyMs?.max).toBeGreaterThanOrEqual(callbacks.latencyMs?.p50 ?? 0);
  });
});

describe('operator endpoints and shutdown', () => {
  const basic = () => `Basic ${Buffer.from(`${sim.accountSid}:${authToken}`).toString('base64')}`;
  const post = (path: string, body: unknown) =>
    fetch(`${sim.url}${path}`, {
      method: 'POST',
      headers: { authorization: basic(), 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('answers raw creates like Twilio', async () => {
    const form = new URLSearchParams({
      To: '+14155550123',
      From: '+14155550100',
      Url: 'http://127.0.0.1:1/twiml',
    });
    const create = (account: string, authorization?: string) =>
      fetch(`${sim.url}/2010-04-01/Accounts/${account}/Calls.json`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(authorization ? { authorization } : {}),
        },
        body: form.toString(),
      });
    const created = await create(sim.accountSid, basic());
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      sid: expect.stringMatching(/^CA[0-9a-f]{32}$/),
      status: 'queued',
    });
    const anonymous = await create(sim.accountSid);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ code: 20003 });
    expect((await create('AC1', basic())).status).toBe(404);
    form.set('StatusCallback', 'http://127.0.0.1:1/status?attemptId=a#rc=9&rp=sometimes');
    const badOverrides = await create(sim.accountSid, basic());
    expect(badOverrides.status).toBe(400);
    expect(await badOverrides.json()).toMatchObject({
      code: 21609,
      message: expect.stringMatching(/rc must be an integer from 0 to 5; rp must be/),
    });
  });

  it('serves stats, config and reset over HTTP with basic auth', async () => {
    expect((await fetch(`${sim.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${sim.url}/sim/stats`)).status).toBe(401);

    await provider.originate(attempt());
    const stats = await fetch(`${sim.url}/sim/stats`, { headers: { authorization: basic() } });
    expect(stats.status).toBe(200);
    expect(await stats.json()).toMatchObject({ totalCreates: 1 });

    const inverted = await post('/sim/config', { ringMs: { min: 50, max: 5 } });
    expect(inverted.status).toBe(400);
    expect(await inverted.json()).toMatchObject({
      issues: [{ path: 'ringMs', message: 'min must not exceed max' }],
    });
    const wrongType = await post('/sim/config', { outcomes: { answered: 'lots' } });
    expect(await wrongType.json()).toMatchObject({ issues: [{ path: 'outcomes.answered' }] });
    const unknown = await post('/sim/config', { cpss: 3 });
    expect(unknown.status).toBe(400);

    const applied = await post('/sim/config', { cps: 7, failures: { dropCallback: 0.5 } });
    expect(await applied.json()).toMatchObject({ cps: 7, failures: { dropCallback: 0.5, createError: 0 } });
    const flows = await post('/sim/config', { keypresses: { '9': 0.1, '1': 0.2 }, dial: { busyRate: 0.2 } });
    expect(await flows.json()).toMatchObject({
      keypresses: { '9': 0.1, '1': 0.2 },
      dial: { busyRate: 0.2, answerRate: DEFAULT_BEHAVIOUR.dial.answerRate },
    });
    const tooLikely = await post('/sim/config', { keypresses: { '9': 0.6, '1': 0.6 } });
    expect(await tooLikely.json()).toMatchObject({
      issues: [{ path: 'keypresses', message: 'the chances of the keys must add up to at most 1' }],
    });

    expect((await post('/sim/reset', {})).status).toBe(200);
    expect(sim.stats()).toMatchObject({ totalCreates: 0, campaigns: {} });
  });

  it('stops promptly with calls in progress, and is then unreachable', async () => {
    const other = await startSimulator({
      authToken,
      behaviour: { ...FAST, talkMs: { min: 60_000, max: 60_000 } },
    });
    const client = providerFor(other);
    await client.originate(attempt());
    await other.stop();
    const err = await client.originate(attempt()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderUnavailableError);
    expect(err).toMatchObject({ callMayExist: false });
  });
});
