import {
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from '@opentelemetry/api';
import { headerValue, type KafkaHeaders } from './headers.ts';

/**
 * Trace context in Kafka headers, through OpenTelemetry's global propagator (W3C Trace Context: `traceparent`,
 * `tracestate`, as `OTEL_PROPAGATORS` says; see packages/observability/src/telemetry.ts). With telemetry off no
 * propagator is registered: nothing is written and nothing is read, at no cost.
 *
 * The producer (`@outbound/bus`) starts a `send <topic>` span per message as a child of the context these headers
 * carry (or of the active context when they carry none) and writes that span's context in their place; the consumer
 * runtime continues it with a `process <topic>` span per message.
 */

/** Reads Kafka headers (Buffer, string or an array of them: the first value). */
const kafkaHeaderGetter: TextMapGetter<KafkaHeaders | undefined> = {
  get: (carrier, key) => headerValue(carrier, key),
  keys: (carrier) => (carrier ? Object.keys(carrier) : []),
};

const recordSetter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/**
 * Headers carrying `parent` (default: the active context), to spread into a produced message's `headers`: its
 * `send` span is then a child of `parent`. Empty when telemetry is off or `parent` has no span.
 */
export function traceHeaders(parent: Context = context.active()): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(parent, headers, recordSetter);
  return headers;
}

/** The context a message's headers carry, on top of `base` (default: none); `base` itself when they carry none. */
export function contextFromHeaders(headers: KafkaHeaders | undefined, base: Context = ROOT_CONTEXT): Context {
  return propagation.extract(base, headers, kafkaHeaderGetter);
}

/** Headers without the propagator's fields, so that a fresh `traceHeaders` replaces them and nothing stale stays. */
export function withoutTraceHeaders<H extends KafkaHeaders>(headers: H): H {
  const fields = propagation.fields();
  if (fields.length === 0) return headers;
  const kept = { ...headers };
  for (const field of fields) delete kept[field];
  return kept;
}

/** The trace id of a context's span, for log lines; undefined when it has none. */
export function traceIdOf(of: Context): string | undefined {
  return trace.getSpanContext(of)?.traceId;
}
