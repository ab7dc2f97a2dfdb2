import { describe, expect, it } from 'vitest';
import { deadLetterHeaders, parseDeadLetterHeaders, withoutDeadLetterHeaders } from './dead-letter.ts';
import { headerValue } from './headers.ts';
import {
  childTraceparent,
  newTraceparent,
  parseTraceparent,
  traceHeaders,
  traceIdOf,
  traceparentFromHeaders,
} from './trace.ts';

const FORMAT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/;

describe('trace context', () => {
  it('starts new sampled traces with distinct ids', () => {
    const a = newTraceparent();
    const b = newTraceparent();
    expect(a).toMatch(FORMAT);
    expect(traceIdOf(a)).not.toBe(traceIdOf(b));
  });

  it('continues a trace with a new span and the same flags', () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';
    const child = childTraceparent(parent);
    expect(child).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/);
    expect(parseTraceparent(child)?.spanId).not.toBe('00f067aa0ba902b7');
  });

  it('starts a new trace when the parent is missing or invalid', () => {
    expect(childTraceparent(undefined)).toMatch(FORMAT);
    expect(childTraceparent('garbage')).toMatch(FORMAT);
  });

  it.each([
    ['wrong length', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['upper case', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01'],
    ['version ff', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['zero span id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['extra fields in version 00', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xx'],
  ])('refuses a traceparent with %s', (_name, value) => {
    expect(parseTraceparent(value)).toBeNull();
  });

  it('accepts extra fields of a later version', () => {
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later')).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      flags: '01',
    });
  });

  it('reads the traceparent from Kafka headers whether Buffer, string or array', () => {
    const tp = newTraceparent();
    expect(traceparentFromHeaders(traceHeaders(tp))).toBe(tp);
    expect(traceparentFromHeaders({ traceparent: Buffer.from(tp) })).toBe(tp);
    expect(traceparentFromHeaders({ traceparent: [Buffer.from(tp), 'other'] })).toBe(tp);
    expect(traceparentFromHeaders({ traceparent: 'nonsense' })).toBeUndefined();
    expect(traceparentFromHeaders({})).toBeUndefined();
    expect(traceparentFromHeaders(undefined)).toBeUndefined();
  });
});

describe('dead-letter headers', () => {
  const info = {
    error: 'field attemptId: Invalid UUID',
    kind: 'invalid' as const,
    originalTopic: 'campaign.calls.status',
    originalPartition: 3,
    originalOffset: '9007199254740993',
    originalKey: 'campaign-1',
    failedAt: new Date('2025-11-28T10:00:00.000Z'),
    consumer: 'status-worker',
    attempts: 0,
  };

  it('writes every header and reads them back from Buffers', () => {
    const headers = deadLetterHeaders(info);
    expect(headers).toEqual({
      'x-error': 'field attemptId: Invalid UUID',
      'x-error-kind': 'invalid',
      'x-original-topic': 'campaign.calls.status',
      'x-original-partition': '3',
      'x-original-offset': '9007199254740993',
      'x-original-key': 'campaign-1',
      'x-failed-at': '2025-11-28T10:00:00.000Z',
      'x-consumer': 'status-worker',
      'x-attempts': '0',
    });
    const asBuffers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
    expect(parseDeadLetterHeaders(asBuffers)).toEqual({ ok: true, info });
  });

  it('omits a missing key and cuts long errors', () => {
    const headers = deadLetterHeaders({ ...info, originalKey: null, error: 'x'.repeat(5000) });
    expect(headers['x-original-key']).toBeUndefined();
    expect(headers['x-error']).toHaveLength(2000);
    const parsed = parseDeadLetterHeaders(headers);
    expect(parsed.ok && parsed.info.originalKey).toBeNull();
  });

  it('names the first bad header', () => {
    const headers = deadLetterHeaders(info);
    expect(parseDeadLetterHeaders({ ...headers, 'x-original-topic': undefined })).toEqual({
      ok: false,
      reason: 'header x-original-topic: missing',
    });
    expect(parseDeadLetterHeaders({ ...headers, 'x-error-kind': 'oops' })).toEqual({
      ok: false,
      reason: 'header x-error-kind: must be invalid or failed (got "oops")',
    });
    expect(parseDeadLetterHeaders({ ...headers, 'x-original-offset': '-1' })).toEqual({
      ok: false,
      reason: 'header x-original-offset: not an offset',
    });
  });

  it('drops the headers of an earlier failure and keeps the others', () => {
    const kept = withoutDeadLetterHeaders({
      ...deadLetterHeaders(info),
      traceparent: 'tp',
      other: Buffer.from('b'),
    });
    expect(Object.keys(kept).sort()).toEqual(['other', 'traceparent']);
    expect(headerValue(kept, 'other')).toBe('b');
  });
});
