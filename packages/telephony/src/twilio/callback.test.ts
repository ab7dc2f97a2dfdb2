import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidStatusCallbackError, mapTwilioCallStatus, parseTwilioStatusCallback } from './callback.ts';

const sid = `CA${'0123456789abcdef'.repeat(2)}`;
const query = {
  tenantId: randomUUID(),
  campaignId: randomUUID(),
  callId: randomUUID(),
  attemptId: randomUUID(),
  attempt: '2',
};

function parse(form: Record<string, string>, q: Record<string, string> = query) {
  return parseTwilioStatusCallback({ form, query: q, receivedAt: new Date('2030-01-02T03:04:05.678Z') });
}

describe('Twilio CallStatus mapping', () => {
  it.each([
    ['queued', {}, 'initiated', undefined],
    ['initiated', {}, 'initiated', undefined],
    ['ringing', {}, 'ringing', undefined],
    ['in-progress', {}, 'answered', undefined],
    ['in-progress', { AnsweredBy: 'machine_start' }, 'answered', undefined],
    ['completed', {}, 'completed', 'ANSWERED'],
    ['completed', { AnsweredBy: 'human' }, 'completed', 'ANSWERED'],
    ['completed', { AnsweredBy: 'unknown' }, 'completed', 'ANSWERED'],
    ['completed', { AnsweredBy: 'machine_start' }, 'completed', 'VOICEMAIL'],
    ['completed', { AnsweredBy: 'machine_end_beep' }, 'completed', 'VOICEMAIL'],
    ['completed', { AnsweredBy: 'fax' }, 'completed', 'VOICEMAIL'],
    ['busy', {}, 'completed', 'BUSY'],
    ['no-answer', {}, 'completed', 'NO_ANSWER'],
    ['failed', {}, 'completed', 'FAILED'],
    ['failed', { SipResponseCode: '404' }, 'completed', 'FAILED'],
    ['failed', { SipResponseCode: '603' }, 'completed', 'REJECTED'],
    ['failed', { SipResponseCode: '607' }, 'completed', 'REJECTED'],
    ['failed', { SipResponseCode: '608' }, 'completed', 'REJECTED'],
    ['canceled', {}, 'completed', 'CANCELED'],
  ] as const)('%s %o → %s %s', (CallStatus, extra, event, outcome) => {
    const parsed = parse({ CallSid: sid, CallStatus, ...extra });
    expect(parsed.event).toBe(event);
    expect(parsed.outcome).toBe(outcome);
    expect(mapTwilioCallStatus(CallStatus, {})).toMatchObject({ event });
  });
});

describe('parseTwilioStatusCallback', () => {
  it('normalises a completed callback with the attempt ids of the query string', () => {
    const event = parse({
      CallSid: sid,
      CallStatus: 'completed',
      CallDuration: '42',
      SequenceNumber: '3',
      Timestamp: 'Tue, 01 Jan 2030 10:00:00 +0000',
      AnsweredBy: 'human',
      SipResponseCode: '200',
      AccountSid: 'ACxyz',
    });
    expect(event).toEqual({
      tenantId: query.tenantId,
      campaignId: query.campaignId,
      callId: query.callId,
      attemptId: query.attemptId,
      attempt: 2,
      eventId: `${sid}:completed:3`,
      providerCallId: sid,
      event: 'completed',
      outcome: 'ANSWERED',
      durationMs: 42_000,
      occurredAt: '2030-01-01T10:00:00.000Z',
      detail: 'status=completed answeredBy=human sip=200',
    });
  });

  it('uses the reception time without a Timestamp, and has no duration before completion', () => {
    const event = parse({ CallSid: sid, CallStatus: 'ringing', CallDuration: '0' });
    expect(event.occurredAt).toBe('2030-01-02T03:04:05.678Z');
    expect(event.durationMs).toBeUndefined();
    expect(event.eventId).toBe(`${sid}:ringing`);
  });

  it('gives duplicates the same eventId and different events different ones', () => {
    const a = parse({ CallSid: sid, CallStatus: 'ringing', SequenceNumber: '1' });
    const b = parseTwilioStatusCallback({
      form: new URLSearchParams({ CallSid: sid, CallStatus: 'ringing', SequenceNumber: '1' }),
      query: new URLSearchParams(query),
    });
    const c = parse({ CallSid: sid, CallStatus: 'in-progress', SequenceNumber: '2' });
    expect(a.eventId).toBe(b.eventId);
    expect(c.eventId).not.toBe(a.eventId);
  });

  it('treats empty parameters as absent', () => {
    const event = parse({ CallSid: sid, CallStatus: 'completed', AnsweredBy: '', CallDuration: '' });
    expect(event.outcome).toBe('ANSWERED');
    expect(event.durationMs).toBeUndefined();
  });

  it.each([
    [{ CallStatus: 'completed' }, query, 'CallSid: is required'],
    [{ CallSid: sid, CallStatus: 'answered' }, query, 'CallStatus: must be one of'],
    [{ CallSid: sid }, query, 'CallStatus: must be one of'],
    [{ CallSid: 'CA 1', CallStatus: 'ringing' }, query, 'CallSid: must be a call sid'],
    [{ CallSid: sid, CallStatus: 'completed', CallDuration: '-3' }, query, 'CallDuration: must be'],
    [{ CallSid: sid, CallStatus: 'completed', Timestamp: 'yesterday' }, query, 'Timestamp: must be a date'],
    [
      { CallSid: sid, CallStatus: 'ringing' },
      { ...query, attempt: '0' },
      'query.attempt: must be a positive',
    ],
    [{ CallSid: sid, CallStatus: 'ringing' }, { ...query, campaignId: '' }, 'query.campaignId: is required'],
  ])('rejects %o with a message naming the field', (form, q, message) => {
    expect(() => parse(form, q)).toThrowError(InvalidStatusCallbackError);
    expect(() => parse(form, q)).toThrowError(message);
  });

  it('lists every bad field at once', () => {
    try {
      parse({ CallStatus: 'nope' }, {});
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidStatusCallbackError);
      const fields = (err as InvalidStatusCallbackError).issues.map((i) => i.field);
      expect(fields).toEqual(
        expect.arrayContaining([
          'CallSid',
          'CallStatus',
          'query.tenantId',
          'query.campaignId',
          'query.callId',
          'query.attemptId',
          'query.attempt',
        ]),
      );
    }
  });
});
