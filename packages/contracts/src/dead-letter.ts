import { z } from 'zod';
import { headerValue, type KafkaHeaders } from './headers.ts';

/**
 * A message that could not be parsed (`invalid`) or processed after bounded attempts (`failed`) is copied to the
 * dead-letter topic: same key, same value, same headers (trace context included), plus these headers saying what
 * went wrong and where it came from, so it can be inspected and replayed to `x-original-topic`.
 */
export const DEAD_LETTER_HEADERS = {
  error: 'x-error',
  kind: 'x-error-kind',
  originalTopic: 'x-original-topic',
  originalPartition: 'x-original-partition',
  originalOffset: 'x-original-offset',
  originalKey: 'x-original-key',
  failedAt: 'x-failed-at',
  consumer: 'x-consumer',
  attempts: 'x-attempts',
} as const;

export type DeadLetterKind = 'invalid' | 'failed';

export interface DeadLetterInfo {
  /** Why: the decode reason, or the handler's error message. */
  error: string;
  kind: DeadLetterKind;
  originalTopic: string;
  originalPartition: number;
  /** Kafka offsets are 64-bit: kept as a decimal string. */
  originalOffset: string;
  /** The original key as UTF-8, null when the message had none. */
  originalKey: string | null;
  failedAt: Date;
  /** The consumer (group) that gave up on it. */
  consumer: string;
  /** How many times processing was attempted (0 for invalid messages, which are never processed). */
  attempts: number;
}

/** Error texts are cut to this many characters: a header is not a place for a stack trace. */
const MAX_ERROR_LENGTH = 2000;

export function deadLetterHeaders(info: DeadLetterInfo): Record<string, string> {
  const h = DEAD_LETTER_HEADERS;
  const headers: Record<string, string> = {
    [h.error]:
      info.error.length > MAX_ERROR_LENGTH ? `${info.error.slice(0, MAX_ERROR_LENGTH - 1)}…` : info.error,
    [h.kind]: info.kind,
    [h.originalTopic]: info.originalTopic,
    [h.originalPartition]: String(info.originalPartition),
    [h.originalOffset]: info.originalOffset,
    [h.failedAt]: info.failedAt.toISOString(),
    [h.consumer]: info.consumer,
    [h.attempts]: String(info.attempts),
  };
  if (info.originalKey !== null) headers[h.originalKey] = info.originalKey;
  return headers;
}

/** Headers of `original` without dead-letter headers of an earlier failure (a replayed message that failed again). */
export function withoutDeadLetterHeaders(original: KafkaHeaders | undefined): KafkaHeaders {
  const names = new Set<string>(Object.values(DEAD_LETTER_HEADERS));
  return Object.fromEntries(Object.entries(original ?? {}).filter(([name]) => !names.has(name)));
}

export type ParsedDeadLetter = { ok: true; info: DeadLetterInfo } | { ok: false; reason: string };

/** Reads the dead-letter headers of a message (for inspection and replay); the reason names the first bad header. */
export function parseDeadLetterHeaders(headers: KafkaHeaders | undefined): ParsedDeadLetter {
  const h = DEAD_LETTER_HEADERS;
  const get = (name: string) => headerValue(headers, name);
  for (const name of [
    h.error,
    h.kind,
    h.originalTopic,
    h.originalPartition,
    h.originalOffset,
    h.failedAt,
    h.consumer,
  ]) {
    if (get(name) === undefined) return { ok: false, reason: `header ${name}: missing` };
  }
  const kind = get(h.kind);
  if (kind !== 'invalid' && kind !== 'failed') {
    return { ok: false, reason: `header ${h.kind}: must be invalid or failed (got "${kind}")` };
  }
  const partition = Number(get(h.originalPartition));
  if (!Number.isInteger(partition) || partition < 0) {
    return { ok: false, reason: `header ${h.originalPartition}: not a partition number` };
  }
  const offset = get(h.originalOffset) as string;
  if (!/^\d+$/.test(offset)) return { ok: false, reason: `header ${h.originalOffset}: not an offset` };
  const failedAt = new Date(get(h.failedAt) as string);
  if (Number.isNaN(failedAt.getTime())) return { ok: false, reason: `header ${h.failedAt}: not a date` };
  const attemptsText = get(h.attempts) ?? '0';
  const attempts = Number(attemptsText);
  if (!Number.isInteger(attempts) || attempts < 0) {
    return { ok: false, reason: `header ${h.attempts}: not a count` };
  }
  return {
    ok: true,
    info: {
      error: get(h.error) as string,
      kind,
      originalTopic: get(h.originalTopic) as string,
      originalPartition: partition,
      originalOffset: offset,
      originalKey: get(h.originalKey) ?? null,
      failedAt,
      consumer: get(h.consumer) as string,
      attempts,
    },
  };
}

/** Set on a message replayed from the dead-letter topic: `<dead-letter topic>/<partition>/<offset>` it came from. */
export const REPLAYED_FROM_HEADER = 'x-replayed-from';

/**
 * One Kafka header as stored with a recorded dead letter: UTF-8 text when the bytes are text (trace context and
 * the platform's own headers always are), base64 otherwise, so a replay sends the same bytes. Repeated names are
 * repeated entries, in order.
 */
export const ZStoredHeader = z.union([
  z.strictObject({ name: z.string(), value: z.string() }),
  z.strictObject({ name: z.string(), base64: z.base64() }),
]);
export type StoredHeader = z.infer<typeof ZStoredHeader>;
export const ZStoredHeaders = z.array(ZStoredHeader);

/** PostgreSQL refuses U+0000 in text and JSON strings: such a header is kept as base64. */
function asStoredText(bytes: Buffer): string | null {
  const text = bytes.toString('utf8');
  return !text.includes('\u0000') && Buffer.from(text, 'utf8').equals(bytes) ? text : null;
}

/** Headers as JSON for storage (see `ZStoredHeader`); absent values are left out. */
export function storedHeaders(headers: KafkaHeaders | undefined): StoredHeader[] {
  const stored: StoredHeader[] = [];
  for (const [name, raw] of Object.entries(headers ?? {})) {
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      if (value === undefined) continue;
      const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
      const text = asStoredText(bytes);
      stored.push(text === null ? { name, base64: bytes.toString('base64') } : { name, value: text });
    }
  }
  return stored;
}

/** The Kafka headers of stored ones: the same bytes, repeated names as arrays. */
export function kafkaHeadersOf(stored: readonly StoredHeader[]): Record<string, Buffer | Buffer[]> {
  const headers: Record<string, Buffer | Buffer[]> = {};
  for (const header of stored) {
    const bytes =
      'value' in header ? Buffer.from(header.value, 'utf8') : Buffer.from(header.base64, 'base64');
    const existing = headers[header.name];
    if (existing === undefined) headers[header.name] = bytes;
    else headers[header.name] = Array.isArray(existing) ? [...existing, bytes] : [existing, bytes];
  }
  return headers;
}
