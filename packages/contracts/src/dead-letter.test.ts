import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_HEADERS,
  deadLetterHeaders,
  kafkaHeadersOf,
  parseDeadLetterHeaders,
  storedHeaders,
  withoutDeadLetterHeaders,
  ZStoredHeaders,
} from './dead-letter.ts';

describe('stored headers of a dead letter', () => {
  it('keeps text as text and other bytes as base64, and gives back the same bytes', () => {
    const binary = Buffer.from([0xff, 0x00, 0x41]);
    const withNul = Buffer.from('a\u0000b', 'utf8');
    const stored = storedHeaders({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      bin: binary,
      nul: withNul,
      repeated: [Buffer.from('one'), 'two'],
      absent: undefined,
    });
    expect(stored).toEqual([
      { name: 'traceparent', value: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      { name: 'bin', base64: binary.toString('base64') },
      { name: 'nul', base64: withNul.toString('base64') },
      { name: 'repeated', value: 'one' },
      { name: 'repeated', value: 'two' },
    ]);
    expect(ZStoredHeaders.parse(JSON.parse(JSON.stringify(stored)))).toEqual(stored);
    const back = kafkaHeadersOf(stored);
    expect(back.bin).toEqual(binary);
    expect(back.nul).toEqual(withNul);
    expect(back.repeated).toEqual([Buffer.from('one'), Buffer.from('two')]);
    expect(back.traceparent?.toString()).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  });

  it('refuses a stored header that is neither text nor base64', () => {
    expect(ZStoredHeaders.safeParse([{ name: 'x' }]).success).toBe(false);
    expect(ZStoredHeaders.safeParse([{ name: 'x', base64: 'not base64!' }]).success).toBe(false);
  });

  it('round-trips the dead-letter headers and strips them again', () => {
    const info = {
      error: 'boom',
      kind: 'failed' as const,
      originalTopic: 'campaign.calls.status',
      originalPartition: 1,
      originalOffset: '42',
      originalKey: 'k',
      failedAt: new Date('2026-11-28T10:00:00.000Z'),
      consumer: 'status-worker',
      attempts: 3,
    };
    const headers = { traceparent: 't', ...deadLetterHeaders(info) };
    expect(parseDeadLetterHeaders(headers)).toEqual({ ok: true, info });
    expect(Object.keys(withoutDeadLetterHeaders(headers))).toEqual(['traceparent']);
    expect(parseDeadLetterHeaders({ [DEAD_LETTER_HEADERS.error]: 'x' })).toMatchObject({ ok: false });
  });
});
