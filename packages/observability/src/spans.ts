import {
  type Attributes,
  type Context,
  context,
  type Span,
  type SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/** Looked up at each use (cheap): a tracer kept from before the SDK (or a test's capture) started would stay a no-op. */
const tracer = () => trace.getTracer('@outbound/platform');

export interface SpanOptions {
  /** The parent; default the active context. */
  parent?: Context;
  kind?: SpanKind;
  attributes?: Attributes;
}

/**
 * Runs `work` in a new span (active inside it, so what it calls is traced beneath it), ended when `work` settles;
 * an error is recorded on it and rethrown. With telemetry off the span is the API's no-op.
 */
export function withSpan<T>(
  name: string,
  options: SpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(
    name,
    {
      ...(options.kind !== undefined && { kind: options.kind }),
      ...(options.attributes && { attributes: options.attributes }),
    },
    options.parent ?? context.active(),
  );
  return context.with(trace.setSpan(options.parent ?? context.active(), span), async () => {
    try {
      return await work(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * A span already over, from `startTime` to now, child of `parent`: for a step done once for many messages (a
 * batch's transaction) that each message's trace should show.
 */
export function recordSpan(
  name: string,
  parent: Context,
  startTime: number,
  attributes: Attributes = {},
): void {
  tracer().startSpan(name, { startTime, attributes }, parent).end();
}
