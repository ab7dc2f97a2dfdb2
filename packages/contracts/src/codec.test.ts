import { describe, expect, it } from 'vitest';
import { decode, encode } from './codec.ts';
import {
  dispatchOfRetry,
  type TCallsUpdate,
  type TCountersUpdate,
  type TDispatch,
  type TStatusEvent,
  ZDispatch,
  ZLiveUpdate,
  ZRetry,
  ZStatusEvent,
} from './messages.ts';

const ids = {
  tenantId: '0190f6a0-0000-7000-8000-000000000001',
  campaignId: '0190f6a0-0000-7000-8000-000000000002',
  callId: '0190f6a0-0000-7000-8000-000000000003',
  attemptId: '0190f6a0-0000-7000-8000-000000000004',
};

const dispatch: TDispatch = {
  v: 1,
  kind: 'dispatch',
  ...ids,
  attempt: 1,
  phoneNumber: '+14155550123',
  callerId: '+14155550100',
  timezone: 'America/Los_Angeles',
  fencingToken: 7,
  queuedAt: '2025-11-28T10:00:00.000Z',
};

const status: TStatusEvent = {
  v: 1,
  kind: 'status',
  eventId: 'CA123:completed',
  ...ids,
  attempt: 1,
  event: 'completed',
  outcome: 'BUSY',
  providerCallId: 'CA123',
  durationMs: 0,
  occurredAt: '2025-11-28T10:00:05+01:00',
};

const counters: TCountersUpdate = {
  v: 1,
  kind: 'counters',
  tenantId: ids.tenantId,
  campaignId: ids.campaignId,
  version: 42,
  counters: {
    total: 10,
    pending: 1,
    queued: 1,
    dialing: 1,
    inProgress: 1,
    retryScheduled: 1,
    completed: 2,
    failed: 1,
    skipped: 1,
    cancelled: 1,
    attempts: 9,
    answeredByPerson: 2,
    answeredByMachine: 1,
    messagesPlayed: 2,
    voicemailsLeft: 1,
    optOuts: 1,
    transfers: 1,
    transfersAnswered: 0,
    flowErrors: 0,
    answers: { '1': 1 },
    outcomeAnswered: 2,
    outcomeBusy: 1,
    outcomeNoAnswer: 0,
    outcomeFailed: 1,
    outcomeVoicemail: 1,
    outcomeRejected: 0,
    outcomeCanceled: 0,
    talkMs: 64_000,
    talked: 2,
  },
  at: '2025-11-28T10:00:05.123Z',
};

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('encode / decode', () => {
  it('round-trips every kind of message', () => {
    const retry = { ...dispatch, kind: 'retry' as const, attempt: 2, dueAt: '2025-11-28T10:02:00.000Z' };
    const calls: TCallsUpdate = {
      v: 1,
      kind: 'calls',
      tenantId: ids.tenantId,
      campaignId: ids.campaignId,
      calls: [
        {
          callId: ids.callId,
          status: 'RETRY_SCHEDULED',
          attempts: 1,
          lastOutcome: 'BUSY',
          updatedAt: status.occurredAt,
        },
        {
          callId: ids.attemptId,
          status: 'PENDING',
          attempts: 0,
          lastOutcome: null,
          updatedAt: status.occurredAt,
        },
      ],
    };
    expect(decode(ZDispatch, encode(dispatch))).toEqual({ ok: true, message: dispatch });
    expect(decode(ZRetry, encode(retry))).toEqual({ ok: true, message: retry });
    expect(decode(ZStatusEvent, encode(status))).toEqual({ ok: true, message: status });
    expect(decode(ZLiveUpdate, encode(counters))).toEqual({ ok: true, message: counters });
    expect(decode(ZLiveUpdate, encode(calls))).toEqual({ ok: true, message: calls });
  });

  it("carries a recipient's zone group: several zones, sorted, joined by '|'", () => {
    const group = { ...dispatch, timezone: 'America/Denver|America/North_Dakota/Center' };
    expect(decode(ZDispatch, encode(group))).toEqual({ ok: true, message: group });
  });

  it('accepts events without an outcome unless completed, and drops unknown fields', () => {
    const { outcome: _o, ...ringing } = { ...status, event: 'ringing' as const };
    expect(decode(ZStatusEvent, json({ ...ringing, addedLater: true }))).toEqual({
      ok: true,
      message: ringing,
    });
  });

  it('turns a due retry into the dispatch of its attempt', () => {
    const retry = { ...dispatch, kind: 'retry' as const, attempt: 2, dueAt: '2025-11-28T10:02:00.000Z' };
    const queuedAt = new Date('2025-11-28T10:02:01.000Z');
    expect(dispatchOfRetry(retry, queuedAt)).toEqual({
      ...dispatch,
      attempt: 2,
      queuedAt: queuedAt.toISOString(),
    });
  });

  it.each([
    ['an empty value', Buffer.alloc(0), 'empty message'],
    ['a tombstone', null, 'empty message'],
    ['text', Buffer.from('hello'), /^not JSON: Unexpected token .*h.*/],
    ['truncated JSON', Buffer.from('{"v":1,'), /^not JSON: /],
    ['an array', json([dispatch]), 'not a JSON object: got an array'],
    ['a number', json(1), 'not a JSON object: got a number'],
    ['version 2', json({ ...dispatch, v: 2 }), 'unsupported message version 2 (this consumer reads 1)'],
    ['version "1"', json({ ...dispatch, v: '1' }), 'unsupported message version "1" (this consumer reads 1)'],
    ['no version', json({ ...dispatch, v: undefined }), 'field v: required (the message version)'],
    ['a bad uuid', json({ ...dispatch, attemptId: 'abc' }), 'field attemptId: Invalid UUID'],
    ['a missing field', json({ ...dispatch, callId: undefined }), 'field callId: required'],
    [
      'a national number',
      json({ ...dispatch, phoneNumber: '4155550123' }),
      'field phoneNumber: must be an E.164 number (+ and 7 to 15 digits)',
    ],
    ['+0…', json({ ...dispatch, callerId: '+0155550123' }), /^field callerId: must be an E\.164/],
    [
      'an unknown zone',
      json({ ...dispatch, timezone: 'Mars/Olympus' }),
      "field timezone: must be an IANA time zone, or several sorted and joined by '|'",
    ],
    [
      'a zone group out of order',
      json({ ...dispatch, timezone: 'America/New_York|America/Chicago' }),
      "field timezone: must be an IANA time zone, or several sorted and joined by '|'",
    ],
    [
      'a local datetime',
      json({ ...dispatch, queuedAt: '2025-11-28 10:00' }),
      'field queuedAt: Invalid ISO datetime',
    ],
    ['attempt 0', json({ ...dispatch, attempt: 0 }), 'field attempt: Too small: expected number to be >=1'],
    ['another kind', json({ ...dispatch, kind: 'status' }), 'field kind: Invalid input: expected "dispatch"'],
    [
      'two bad fields',
      json({ ...dispatch, tenantId: 'x', fencingToken: -1 }),
      'field tenantId: Invalid UUID; field fencingToken: Too small: expected number to be >=0',
    ],
  ])('rejects %s as a dispatch with a precise reason', (_name, value, reason) => {
    const result = decode(ZDispatch, value);
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.reason).toEqual(typeof reason === 'string' ? reason : expect.stringMatching(reason));
  });

  it.each([
    [
      'completed without an outcome',
      { ...status, outcome: undefined },
      'field outcome: required when event is completed',
    ],
    [
      'an unknown outcome',
      { ...status, outcome: 'HUNG_UP' },
      'field outcome: Invalid option: expected one of "ANSWERED"|"BUSY"|"NO_ANSWER"|"FAILED"|"VOICEMAIL"|"REJECTED"|"CANCELED"',
    ],
    [
      'an unknown event',
      { ...status, event: 'hangup' },
      'field event: Invalid option: expected one of "initiated"|"ringing"|"answered"|"completed"',
    ],
    [
      'an empty event id',
      { ...status, eventId: '' },
      'field eventId: Too small: expected string to have >=1 characters',
    ],
    [
      'a fractional duration',
      { ...status, durationMs: 1.5 },
      'field durationMs: Invalid input: expected int, received number',
    ],
  ])('rejects a status event with %s', (_name, value, reason) => {
    expect(decode(ZStatusEvent, json(value))).toEqual({ ok: false, reason });
  });

  it.each([
    ['an unknown kind', { ...counters, kind: 'totals' }, 'field kind: must be "counters" or "calls"'],
    [
      'a missing counter',
      { ...counters, counters: { ...counters.counters, retryScheduled: undefined } },
      'field counters.retryScheduled: required',
    ],
    [
      'a string version',
      { ...counters, version: '42' },
      'field version: Invalid input: expected number, received string',
    ],
    [
      'a bad call in a list',
      {
        v: 1,
        kind: 'calls',
        tenantId: ids.tenantId,
        campaignId: ids.campaignId,
        calls: [
          { callId: ids.callId, status: 'RINGING', attempts: 1, lastOutcome: null, updatedAt: counters.at },
        ],
      },
      /^field calls\.0\.status: Invalid option: expected one of "PENDING"/,
    ],
    [
      'an empty list of calls',
      { v: 1, kind: 'calls', tenantId: ids.tenantId, campaignId: ids.campaignId, calls: [] },
      'field calls: Too small: expected array to have >=1 items',
    ],
  ])('rejects a live update with %s', (_name, value, reason) => {
    const result = decode(ZLiveUpdate, json(value));
    expect(result).toEqual({
      ok: false,
      reason: typeof reason === 'string' ? reason : expect.stringMatching(reason),
    });
  });

  it('lists at most five problems', () => {
    const result = decode(ZDispatch, json({ v: 1 }));
    expect(result).toEqual({ ok: false, reason: expect.stringMatching(/^field kind: .*; \(and 6 more\)$/) });
  });
});
