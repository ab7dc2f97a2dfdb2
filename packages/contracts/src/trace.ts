import { randomBytes } from 'node:crypto';
import { headerValue, type KafkaHeaders } from './headers.ts';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): `traceparent` = `00-<trace id: 32 hex>-<parent span
 * id: 16 hex>-<flags: 2 hex>`. Each process that handles a message continues its trace with a span of its own
 * (`childTraceparent`) and sends that on with whatever it produces, so one trace id follows a call through the
 * pipeline and into the logs.
 */
export const TRACEPARENT_HEADER = 'traceparent';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export interface TraceContext {
  traceId: string;
  spanId: string;
  /** `01` when sampled. */
  flags: string;
}

/** Reads a traceparent; null when it is malformed or uses the forbidden values (version ff, all-zero ids). */
export function parseTraceparent(value: string | undefined | null): TraceContext | null {
  if (!value) return null;
  const match = TRACEPARENT.exec(value.trim());
  if (!match) return null;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === 'ff' || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  // Version 00 has exactly four fields; later versions may append more, which we ignore.
  if (version === '00' && rest !== undefined) return null;
  return { traceId, spanId, flags };
}

function format({ traceId, spanId, flags }: TraceContext): string {
  return `00-${traceId}-${spanId}-${flags}`;
}

function newSpanId(): string {
  let id = randomBytes(8).toString('hex');
  while (id === ZERO_SPAN) id = randomBytes(8).toString('hex');
  return id;
}

/** A new trace (sampled) with its root span. */
export function newTraceparent(): string {
  let traceId = randomBytes(16).toString('hex');
  while (traceId === ZERO_TRACE) traceId = randomBytes(16).toString('hex');
  return format({ traceId, spanId: newSpanId(), flags: '01' });
}

/** A span in the same trace as `parent` (same trace id and flags, new span id); a new trace if `parent` is unusable. */
export function childTraceparent(parent: string | undefined | null): string {
  const context = parseTraceparent(parent);
  return context ? format({ ...context, spanId: newSpanId() }) : newTraceparent();
}

/** Headers carrying the trace context, to spread into a produced message's `headers`. */
export function traceHeaders(traceparent: string): Record<string, string> {
  return { [TRACEPARENT_HEADER]: traceparent };
}

/** The valid traceparent in Kafka headers, or undefined. */
export function traceparentFromHeaders(headers: KafkaHeaders | undefined): string | undefined {
  const value = headerValue(headers, TRACEPARENT_HEADER);
  return parseTraceparent(value) ? value?.trim() : undefined;
}

/** The trace id of a traceparent, for log lines; undefined when it is not valid. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return parseTraceparent(traceparent)?.traceId;
}
