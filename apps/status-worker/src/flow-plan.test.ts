import type { TFlowEvent, TStatusTopicMessage, TSuppressNumber } from '@outbound/contracts';
import { describe, expect, it } from 'vitest';
import { applyFlowEvent, NO_FLOW_RESULT, resultDelta, sameResult, suppressEventId } from './flow-plan.ts';
import { type LockedCall, listedKey, type PlanContext, planBatch, suppressKey } from './plan.ts';

const TENANT = '00000000-0000-4000-8000-00000000000a';
const CAMPAIGN = '00000000-0000-4000-8000-00000000000b';
const CALL = '00000000-0000-4000-8000-00000000000c';
const ATTEMPT = '00000000-0000-4000-8000-00000000000d';
const AT = '2026-12-06T10:00:00.000Z';

type FlowRef = Omit<Extract<TFlowEvent, { step: 'error' }>, 'kind' | 'step' | 'error'>;
/** A flow event's own fields (its step and what the step says). */
type FlowFields = {
  [S in TFlowEvent['step']]: Omit<Extract<TFlowEvent, { step: S }>, keyof FlowRef | 'kind'>;
}[TFlowEvent['step']];
type KeyFields = { key?: string; label?: string; transferTo?: string; offer?: number };

const ref: Omit<FlowRef, 'eventId'> = {
  v: 1,
  tenantId: TENANT,
  campaignId: CAMPAIGN,
  callId: CALL,
  attemptId: ATTEMPT,
  attempt: 1,
  providerCallId: 'CA1',
  flowVersion: 2,
  occurredAt: AT,
};
let sequence = 0;
function flow(fields: FlowFields, extra: Partial<FlowRef> = {}): TFlowEvent {
  return { kind: 'flow', eventId: `e${++sequence}`, ...ref, ...extra, ...fields } as TFlowEvent;
}
const answered = (answeredBy: 'HUMAN' | 'MACHINE' | 'UNKNOWN', played: 'MESSAGE' | 'VOICEMAIL' | 'NOTHING') =>
  flow({ step: 'answered', answeredBy, played });
const key = (
  action: Extract<TFlowEvent, { step: 'key' }>['action'],
  more: KeyFields = {},
  extra: Partial<FlowRef> = {},
) => flow({ step: 'key', action, offer: 1, phoneNumber: '+14155550100', ...more } as FlowFields, extra);

const apply = (...events: TFlowEvent[]) => events.reduce(applyFlowEvent, NO_FLOW_RESULT);

describe('a flow event applied to a call result', () => {
  it('records who answered and what was played; a played message or voicemail stays once it happened', () => {
    expect(apply(answered('HUMAN', 'MESSAGE'))).toMatchObject({ answeredBy: 'HUMAN', messagePlayed: true });
    const both = apply(answered('MACHINE', 'VOICEMAIL'), answered('UNKNOWN', 'MESSAGE'));
    expect(both).toMatchObject({ answeredBy: 'UNKNOWN', messagePlayed: true, voicemailLeft: true });
    expect(apply(answered('MACHINE', 'NOTHING'))).toMatchObject({
      messagePlayed: false,
      voicemailLeft: false,
    });
  });

  it('keeps the first opt-out time, the latest answer, and the latest transfer with its outcome', () => {
    const first = key('OPT_OUT', { key: '9' });
    const later = key('OPT_OUT', { key: '9' }, { occurredAt: '2026-12-07T10:00:00.000Z' });
    expect(apply(first, later).optedOutAt).toEqual(new Date(AT));

    const answers = apply(
      key('RECORD_ANSWER', { key: '1', label: 'confirmed' }),
      key('RECORD_ANSWER', { key: '2', label: 'cancel' }),
    );
    expect([answers.answerKey, answers.answerLabel]).toEqual(['2', 'cancel']);

    const transferred = apply(
      key('TRANSFER', { key: '3', transferTo: '+14155550199' }),
      flow({ step: 'transfer', status: 'ANSWERED', durationMs: 42_000 }),
    );
    expect(transferred).toMatchObject({
      transferNumber: '+14155550199',
      transferStatus: 'ANSWERED',
      transferDurationMs: 42_000,
    });
    // A new transfer's outcome is unknown until its own transfer event.
    expect(
      applyFlowEvent(transferred, key('TRANSFER', { key: '3', transferTo: '+14155550198' })),
    ).toMatchObject({
      transferNumber: '+14155550198',
      transferStatus: null,
      transferDurationMs: null,
    });
  });

  it('changes nothing for REPEAT, INVALID and NO_INPUT; records the latest error', () => {
    for (const action of ['REPEAT', 'INVALID', 'NO_INPUT'] as const)
      expect(sameResult(apply(key(action, action === 'NO_INPUT' ? {} : { key: '5' })), NO_FLOW_RESULT)).toBe(
        true,
      );
    expect(apply(flow({ step: 'error', error: 'a' }), flow({ step: 'error', error: 'b' })).flowError).toBe(
      'b',
    );
  });
});

describe('counter deltas of a changed result', () => {
  it('counts calls: a result counted once, an answer moved between keys, nothing for no change', () => {
    const person = apply(answered('HUMAN', 'MESSAGE'));
    expect(resultDelta(NO_FLOW_RESULT, person)).toEqual({ answeredByPerson: 1, messagesPlayed: 1 });
    // Machine then person: the call moves between the two counters, the voicemail stays counted.
    const machine = apply(answered('MACHINE', 'VOICEMAIL'));
    expect(resultDelta(machine, applyFlowEvent(machine, answered('UNKNOWN', 'MESSAGE')))).toEqual({
      answeredByMachine: -1,
      answeredByPerson: 1,
      messagesPlayed: 1,
    });
    const one = apply(key('RECORD_ANSWER', { key: '1', label: 'yes' }));
    expect(resultDelta(NO_FLOW_RESULT, one)).toEqual({ answers: { '1': 1 } });
    expect(resultDelta(one, applyFlowEvent(one, key('RECORD_ANSWER', { key: '2', label: 'no' })))).toEqual({
      answers: { '1': -1, '2': 1 },
    });
    expect(resultDelta(one, applyFlowEvent(one, key('RECORD_ANSWER', { key: '1', label: 'yes' })))).toEqual(
      {},
    );
    const answeredTransfer = apply(
      key('TRANSFER', { key: '3', transferTo: '+14155550199' }),
      flow({ step: 'transfer', status: 'ANSWERED' }),
    );
    expect(resultDelta(NO_FLOW_RESULT, answeredTransfer)).toEqual({ transfers: 1, transfersAnswered: 1 });
    expect(
      resultDelta(
        answeredTransfer,
        applyFlowEvent(answeredTransfer, key('TRANSFER', { key: '3', transferTo: '+14155550198' })),
      ),
    ).toEqual({ transfersAnswered: -1 });
    expect(
      resultDelta(NO_FLOW_RESULT, apply(key('OPT_OUT', { key: '9' }), flow({ step: 'error', error: 'x' }))),
    ).toEqual({ optOuts: 1, flowErrors: 1 });
  });
});

function locked(overrides: Partial<LockedCall> = {}): LockedCall {
  return {
    id: CALL,
    campaignId: CAMPAIGN,
    tenantId: TENANT,
    status: 'IN_PROGRESS',
    attempts: 1,
    currentAttemptId: ATTEMPT,
    phoneNumber: '+14155550100',
    timezone: 'America/New_York',
    lastOutcome: null,
    lastError: null,
    skipReason: null,
    providerCallId: 'CA1',
    nextAttemptAt: null,
    callerId: '+14155550000',
    policy: {
      maxAttempts: 3,
      baseDelayMs: 1000,
      maxDelayMs: 10_000,
      jitter: 0,
      retryOn: ['BUSY'],
      outcomeDelays: [],
    },
    campaignStatus: 'RUNNING',
    flow: NO_FLOW_RESULT,
    ...overrides,
  };
}

const context = (more: Partial<PlanContext> = {}): PlanContext => ({
  now: new Date(AT),
  newAttemptId: () => '00000000-0000-4000-8000-0000000000ff',
  suppressCalls: new Map(),
  listed: new Set(),
  ...more,
});

const plan = (messages: TStatusTopicMessage[], calls: LockedCall[], more: Partial<PlanContext> = {}) =>
  planBatch(
    messages.map((message, index) => ({ message, index })),
    new Map(calls.map((c) => [c.id, c])),
    context(more),
  );

describe('a batch with flow events', () => {
  it('chains the events of a call and writes the row once, with the summed delta', () => {
    const result = plan(
      [
        answered('HUMAN', 'MESSAGE'),
        key('RECORD_ANSWER', { key: '1', label: 'yes' }),
        key('RECORD_ANSWER', { key: '2', label: 'no' }, { attempt: 1 }),
      ],
      [locked()],
    );
    expect(result.updates).toHaveLength(1);
    expect(result.updates[0]).toMatchObject({ transitioned: false, finished: false });
    expect(result.updates[0]?.call.flow).toMatchObject({
      answeredBy: 'HUMAN',
      answerKey: '2',
      answerLabel: 'no',
    });
    expect(result.deltas.get(CAMPAIGN)).toEqual({
      answeredByPerson: 1,
      messagesPlayed: 1,
      answers: { '1': 0, '2': 1 },
    });
    expect(result.flowEvents).toHaveLength(3);
  });

  it('leaves an ended call ended as it was: its finished_at is not set again', () => {
    const result = plan(
      [flow({ step: 'error', error: 'a late fallback' })],
      [locked({ status: 'COMPLETED' })],
    );
    expect(result.updates[0]).toMatchObject({ transitioned: false, finished: false });
    expect(result.updates[0]?.call).toMatchObject({
      status: 'COMPLETED',
      flow: { flowError: 'a late fallback' },
    });
  });

  it('writes no row and no delta for an event that changes nothing, and records it all the same', () => {
    const result = plan([key('REPEAT', { key: '5' })], [locked()]);
    expect(result.updates).toEqual([]);
    expect(result.deltas.size).toBe(0);
    expect(result.flowEvents).toHaveLength(1);
  });

  it('drops an answer moved away and back within the batch from the counters (no empty delta written)', () => {
    const result = plan(
      [key('RECORD_ANSWER', { key: '2', label: 'no' }), key('RECORD_ANSWER', { key: '1', label: 'yes' })],
      [locked({ flow: { ...NO_FLOW_RESULT, answerKey: '1', answerLabel: 'yes' } })],
    );
    expect(result.deltas.size).toBe(0);
  });

  it('ignores a flow event of an attempt the call never had', () => {
    const phantom = key('OPT_OUT', { key: '9' }, { attempt: 2 });
    const result = plan([phantom], [locked()]);
    expect(result.ignored).toEqual([{ eventId: phantom.eventId, reason: 'unknown-attempt' }]);
    expect([result.updates, result.flowEvents, result.optOuts]).toEqual([[], [], []]);
  });

  it('lists each applied opt-out with its position for the suppress messages, even on an opted-out row', () => {
    const optOut = key('OPT_OUT', { key: '9' });
    const result = plan(
      [answered('HUMAN', 'MESSAGE'), optOut],
      [locked({ flow: { ...NO_FLOW_RESULT, optedOutAt: new Date(AT) } })],
    );
    expect(result.optOuts).toEqual([{ event: optOut, traceIndex: 1 }]);
    expect(result.deltas.get(CAMPAIGN)).toEqual({ answeredByPerson: 1, messagesPlayed: 1 });
  });
});

function suppress(phoneNumber = '+14155550100'): TSuppressNumber {
  return {
    v: 1,
    kind: 'suppress',
    eventId: `s${++sequence}`,
    tenantId: TENANT,
    campaignId: CAMPAIGN,
    phoneNumber,
    reason: `opted out by keypad during call ${CALL}`,
    occurredAt: AT,
  };
}

describe('a batch with suppress messages', () => {
  const waiting = (status: 'PENDING' | 'RETRY_SCHEDULED') =>
    locked({
      status,
      attempts: status === 'PENDING' ? 0 : 2,
      currentAttemptId: status === 'PENDING' ? null : ATTEMPT,
      nextAttemptAt: status === 'PENDING' ? null : new Date(AT),
    });
  const found = (m: TSuppressNumber) => new Map([[suppressKey(m), CALL]]);
  const onList = (m: TSuppressNumber) => new Set([listedKey(m)]);

  it('skips a waiting call whose number is on the list; a scheduled attempt is given back', () => {
    for (const [status, attempts, delta] of [
      ['PENDING', 0, { pending: -1, skipped: 1 }],
      ['RETRY_SCHEDULED', 1, { retryScheduled: -1, skipped: 1, attempts: -1 }],
    ] as const) {
      const m = suppress();
      const result = plan([m], [waiting(status)], { suppressCalls: found(m), listed: onList(m) });
      expect(result.updates).toHaveLength(1);
      expect(result.updates[0]).toMatchObject({ transitioned: true, finished: true });
      expect(result.updates[0]?.call).toMatchObject({
        status: 'SKIPPED',
        skipReason: m.reason,
        attempts,
        currentAttemptId: null,
        nextAttemptAt: null,
      });
      expect(result.deltas.get(CAMPAIGN)).toEqual(delta);
    }
  });

  it('leaves a call that is not waiting, a number off the list, and a campaign without the number', () => {
    const dialled = suppress();
    const offList = suppress();
    const elsewhere = suppress('+14155550111');
    const result = plan([dialled], [locked({ status: 'QUEUED' })], {
      suppressCalls: found(dialled),
      listed: onList(dialled),
    });
    expect(result.ignored).toEqual([{ eventId: dialled.eventId, reason: 'not-waiting' }]);
    const notListed = plan([offList], [waiting('PENDING')], { suppressCalls: found(offList) });
    expect(notListed.ignored).toEqual([{ eventId: offList.eventId, reason: 'not-listed' }]);
    const none = plan([elsewhere], [], { listed: onList(elsewhere) });
    expect(none.ignored).toEqual([{ eventId: elsewhere.eventId, reason: 'no-call' }]);
    for (const r of [result, notListed, none]) expect([r.updates, r.deltas.size]).toEqual([[], 0]);
  });

  it('sees the call as the batch left it: a retry scheduled by an earlier event is skipped', () => {
    const m = suppress();
    const busy: TStatusTopicMessage = {
      v: 1,
      kind: 'status',
      eventId: 'busy',
      tenantId: TENANT,
      campaignId: CAMPAIGN,
      callId: CALL,
      attemptId: ATTEMPT,
      attempt: 1,
      event: 'completed',
      outcome: 'BUSY',
      occurredAt: AT,
    };
    const result = plan([busy, m], [locked()], { suppressCalls: found(m), listed: onList(m) });
    expect(result.updates[0]?.call).toMatchObject({ status: 'SKIPPED', attempts: 1, currentAttemptId: null });
    // DIALING/IN_PROGRESS -> RETRY_SCHEDULED (+1 attempt) -> SKIPPED (the attempt given back); the call's last
    // outcome stays BUSY, so the outcome breakdown counts it there.
    expect(result.deltas.get(CAMPAIGN)).toEqual({
      inProgress: -1,
      retryScheduled: 0,
      skipped: 1,
      attempts: 0,
      outcomeBusy: 1,
    });
    expect(result.retries).toHaveLength(1);
  });
});

describe('suppress event ids', () => {
  it('are the same for the same opt-out and campaign, and fit the message', () => {
    expect(suppressEventId('CA1:flow:key:1', CAMPAIGN)).toBe(`CA1:flow:key:1:suppress:${CAMPAIGN}`);
    const long = suppressEventId('x'.repeat(200), CAMPAIGN);
    expect(long.length).toBeLessThanOrEqual(200);
    expect(suppressEventId('x'.repeat(200), CAMPAIGN)).toBe(long);
    expect(suppressEventId('y'.repeat(200), CAMPAIGN)).not.toBe(long);
  });
});
