import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  answeredByOf,
  InvalidFlowRequestError,
  parseFlowFallbackRequest,
  parseFlowMenuRequest,
  parseFlowTransferRequest,
  parseFlowVoiceRequest,
} from './flow-request.ts';

const sid = `CA${'0123456789abcdef'.repeat(2)}`;
const ids = {
  tenantId: randomUUID(),
  campaignId: randomUUID(),
  callId: randomUUID(),
  attemptId: randomUUID(),
};
const query = { ...ids, attempt: '2', flow: '5' };
const base = { ...ids, attempt: 2, flowVersion: 5, providerCallId: sid };

function issuesOf(parse: () => unknown): { field: string; message: string }[] {
  try {
    parse();
  } catch (err) {
    if (err instanceof InvalidFlowRequestError) return [...err.issues];
    throw err;
  }
  throw new Error('expected the request to be refused');
}

describe('answeredByOf', () => {
  it.each([
    ['human', 'HUMAN'],
    ['machine_start', 'MACHINE'],
    ['machine_end_beep', 'MACHINE'],
    ['machine_end_silence', 'MACHINE'],
    ['machine_end_other', 'MACHINE'],
    ['fax', 'MACHINE'],
    ['unknown', 'UNKNOWN'],
    [undefined, 'UNKNOWN'],
    ['something new', 'UNKNOWN'],
  ] as const)('%s → %s', (answeredBy, expected) => {
    expect(answeredByOf(answeredBy)).toBe(expected);
  });
});

describe('flow requests', () => {
  it('reads the voice request: ids, flow version, call sid and who answered', () => {
    expect(parseFlowVoiceRequest({ form: { CallSid: sid, AnsweredBy: 'machine_end_beep' }, query })).toEqual({
      ...base,
      answeredBy: 'MACHINE',
    });
    // Twilio sends `AnsweredBy=` when machine detection was not asked: a person.
    expect(
      parseFlowVoiceRequest({
        form: new URLSearchParams({ CallSid: sid, AnsweredBy: '' }),
        query: { ...query, flow: 'none' },
      }),
    ).toEqual({ ...base, flowVersion: null, answeredBy: 'UNKNOWN' });
  });

  it('reads a menu request; empty Digits is no input', () => {
    expect(
      parseFlowMenuRequest({ form: { CallSid: sid, Digits: '9' }, query: { ...query, offer: '3' } }),
    ).toEqual({
      ...base,
      offer: 3,
      digits: '9',
    });
    expect(
      parseFlowMenuRequest({ form: { CallSid: sid, Digits: '' }, query: { ...query, offer: '1' } }),
    ).toEqual({
      ...base,
      offer: 1,
      digits: undefined,
    });
  });

  it.each([
    ['completed', 'ANSWERED'],
    ['answered', 'ANSWERED'],
    ['busy', 'BUSY'],
    ['no-answer', 'NO_ANSWER'],
    ['failed', 'FAILED'],
    ['canceled', 'CANCELED'],
  ] as const)('reads a transfer result: DialCallStatus %s → %s', (DialCallStatus, status) => {
    expect(
      parseFlowTransferRequest({
        form: { CallSid: sid, DialCallStatus, DialCallDuration: '42' },
        query: { ...query, offer: '2', key: '#' },
      }),
    ).toEqual({ ...base, offer: 2, key: '#', status, durationMs: 42_000 });
  });

  it('reads a fallback request', () => {
    expect(
      parseFlowFallbackRequest({
        form: { CallSid: sid, ErrorCode: '12100', ErrorUrl: 'https://x.example/v' },
        query,
      }),
    ).toEqual({ ...base, errorCode: '12100', errorUrl: 'https://x.example/v' });
  });

  it('names every bad field of the form and of the query', () => {
    expect(
      issuesOf(() =>
        parseFlowTransferRequest({
          form: { CallSid: 'no sid!', DialCallStatus: 'exploded' },
          query: { ...query, flow: 'latest', offer: '0', key: '10' },
        }),
      ).map((i) => i.field),
    ).toEqual(['CallSid', 'DialCallStatus', 'query.flow', 'query.offer', 'query.key']);
    expect(
      issuesOf(() => parseFlowMenuRequest({ form: { CallSid: sid }, query: ids })).map((i) => i.field),
    ).toEqual(['query.attempt', 'query.flow', 'query.offer']);
  });
});
