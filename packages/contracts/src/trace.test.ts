import { propagation, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deadLetterHeaders, parseDeadLetterHeaders, withoutDeadLetterHeaders } from './dead-letter.ts';
import { headerValue } from './headers.ts';
import { contextFromHeaders, traceHeaders, traceIdOf, withoutTraceHeaders } from './trace.ts';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const remote = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
});

describe('trace context in Kafka headers, telemetry on (W3C propagator)', () => {
  beforeEach(() => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  afterEach(() => {
    propagation.disable();
  });

  it('writes the W3C traceparent of a context', () => {
    expect(traceHeaders(remote)).toEqual({ traceparent: TP });
    expect(traceHeaders(ROOT_CONTEXT)).toEqual({});
  });

  it('reads it back whether Buffer, string or array', () => {
    for (const headers of [
      { traceparent: TP },
      { traceparent: Buffer.from(TP) },
      { traceparent: [Buffer.from(TP), 'x'] },
    ])
      expect(trace.getSpanContext(contextFromHeaders(headers))).toEqual({
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
      });
    expect(traceIdOf(contextFromHeaders({ traceparent: TP }))).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('ignores a missing or malformed traceparent', () => {
    for (const headers of [
      undefined,
      {},
      { traceparent: 'nonsense' },
      { traceparent: `00-${'0'.repeat(32)}-00f067aa0ba902b7-01` },
    ])
      expect(traceIdOf(contextFromHeaders(headers))).toBeUndefined();
  });

  it("drops the propagator's headers and keeps the others", () => {
    expect(withoutTraceHeaders({ traceparent: TP, tracestate: 'a=b', other: 'o' })).toEqual({ other: 'o' });
  });
});

describe('trace context in Kafka headers, telemetry off (no propagator)', () => {
  it('writes nothing, reads nothing and keeps headers as they are', () => {
    expect(traceHeaders(remote)).toEqual({});
    expect(traceIdOf(contextFromHeaders({ traceparent: TP }))).toBeUndefined();
    const headers = { traceparent: TP };
    expect(withoutTraceHeaders(headers)).toBe(headers);
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
